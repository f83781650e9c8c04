import { Args } from '@oclif/core';
import { type StatusRow, renderStatus, statusRow } from '../../src/status/status-view.js';
import { BaseCommand } from '../base-command.js';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'List the schedules in the registry with their next fire time.';
  static override description = `Reads the registry in Redis: every schedule's id, trigger, timezone, queue, whether it is enabled, its next fire time (absolute, and relative to now), and the source that owns it.`;

  static override examples = [
    { description: 'All schedules', command: '<%= config.bin %> status' },
    { description: 'Some schedules, as JSON', command: '<%= config.bin %> status nightly-invoices weekly-report --json' },
  ];

  static override strict = false;
  static override args = { ids: Args.string({ description: 'Only these schedule ids.' }) };

  async run(): Promise<{ schedules: StatusRow[] }> {
    this.loadSettings();
    const { argv } = await this.parse(Status);
    const registry = await this.openRegistry();
    const ids = (argv as string[]).length > 0 ? (argv as string[]) : undefined;
    const now = Date.now();
    const rows = (await registry.readEntries(ids)).map((e) => statusRow(e, now));
    if (!this.jsonEnabled()) this.log(renderStatus(rows).join('\n'));
    return { schedules: rows };
  }
}
