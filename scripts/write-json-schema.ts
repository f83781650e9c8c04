/** `npm run schema`: writes schema/schedule.schema.json from the schedule schema. */
import { writeFileSync } from 'node:fs';
import { scheduleFileJsonSchema } from '../src/model/json-schema.js';

const out = process.argv[2] ?? 'schema/schedule.schema.json';
writeFileSync(out, `${JSON.stringify(scheduleFileJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
