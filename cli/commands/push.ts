import { readFileSync } from 'node:fs';
import { Args } from '@oclif/core';
import { PyrqError } from '../../src/errors.js';
import { parseScheduleFile } from '../../sources/files/parse-file.js';
import { BaseCommand } from '../base-command.js';
import { askDaemon } from '../daemon-client.js';
import { ignoredRedisFlags, socketFlags } from '../flags.js';
import { exitCodes } from '../help.js';

interface PushResult {
  pushed: { id: string; action: string }[];
}

export default class Push extends BaseCommand<typeof Push> {
  static override summary = 'Upsert the schedules in a file into the running daemon, over its socket.';
  static override description = `Reads a schedule file (JSON, TOML or YAML, any of the shapes a schedules directory accepts) and sends each schedule to the daemon as an "upsert". Pushed schedules belong to the "socket" source and are persisted in Redis, so they survive daemon restarts. An id owned by another source (a file, the database) is refused.

${exitCodes({ 0: 'every schedule pushed', 1: 'the file could not be read or a schedule was refused (those before it were pushed), no daemon answered, or a setting is invalid' })}`;

  static override examples = [
    { description: 'Push one file', command: '<%= config.bin %> push adhoc/backfill.yaml' },
    { description: 'Push to a daemon on another socket', command: '<%= config.bin %> push job.json --socket /tmp/pyrq.sock --json' },
  ];

  static override args = { file: Args.string({ description: 'Schedule file.', required: true }) };
  static override flags = { ...socketFlags, ...ignoredRedisFlags };

  async run(): Promise<PushResult> {
    const cfg = this.loadSettings();
    const { args } = await this.parse(Push);
    let bytes: Buffer;
    try {
      bytes = readFileSync(args.file);
    } catch (e) {
      throw new PyrqError('VALIDATION_FAILED', `${args.file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const parsed = parseScheduleFile(args.file, bytes);
    if (!parsed.ok) throw new PyrqError('VALIDATION_FAILED', `${args.file}: ${parsed.message}`);
    const pushed: PushResult['pushed'] = [];
    for (const { raw, locator } of parsed.entries) {
      try {
        const r = (await askDaemon(cfg.daemon.socket, { op: 'upsert', schedule: raw })) as { id: string; action: string };
        pushed.push({ id: r.id, action: r.action });
        if (!this.jsonEnabled()) this.log(`${r.action === 'unchanged' ? '=' : r.action === 'create' ? '+' : '~'} ${r.id} (${r.action})`);
      } catch (e) {
        if (e instanceof PyrqError && e.code === 'DAEMON_ERROR') throw new PyrqError('VALIDATION_FAILED', `${args.file}${locator ? `: ${locator}` : ''}: ${e.message}`);
        throw e;
      }
    }
    return { pushed };
  }
}
