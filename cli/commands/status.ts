import { existsSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { request } from '../../src/control/client.js';
import { type StatusReport, statusFromRedis } from '../../src/status/registry-status.js';
import { renderStatus } from '../../src/status/status-view.js';
import { BaseCommand } from '../base-command.js';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the schedules, their next and last runs, source health and the leader.';
  static override description = `Asks the running daemon over its socket when one answers (daemon, leader, source health, last reconcile and its errors, every schedule), and otherwise reads the same from Redis (source health as the daemon, or the last pyrq apply, recorded it).

Per schedule: id, trigger, timezone, queue, enabled, next fire time (absolute and relative), last run and its outcome and lateness, and the source that owns it.`;

  static override examples = [
    { description: 'Everything', command: '<%= config.bin %> status' },
    { description: 'Some schedules, as JSON, straight from Redis', command: '<%= config.bin %> status nightly-invoices weekly-report --no-daemon --json' },
  ];

  static override strict = false;
  static override args = { ids: Args.string({ description: 'Only these schedule ids.' }) };
  static override flags = {
    socket: Flags.string({ summary: 'Control socket path (default from PYRQ_SOCKET or the config).' }),
    'no-daemon': Flags.boolean({ summary: 'Do not ask the daemon; read Redis only.' }),
  };

  async run(): Promise<StatusReport> {
    const cfg = this.loadSettings({ socket: this.flags.socket });
    const { argv } = await this.parse(Status);
    const ids = (argv as string[]).length > 0 ? (argv as string[]) : undefined;
    let report: StatusReport | undefined;
    if (!this.flags['no-daemon'] && existsSync(cfg.daemon.socket)) {
      const reply = await request(cfg.daemon.socket, { op: 'status' }, 3000).catch(() => undefined);
      if (reply?.ok) {
        const r = reply.result as Omit<StatusReport, 'via' | 'leader'> & { daemon: { currentLeader: string | null } };
        report = { via: 'daemon', ...r, leader: r.daemon.currentLeader, schedules: ids ? r.schedules.filter((s) => ids.includes(s.id)) : r.schedules };
      }
    }
    if (!report) report = await statusFromRedis(await this.openRedis(), await this.openRegistry(), Date.now(), ids);
    if (!this.jsonEnabled()) this.log(renderReport(report).join('\n'));
    return report;
  }
}

function renderReport(r: StatusReport): string[] {
  const out: string[] = [];
  out.push(r.via === 'daemon' ? `Daemon: pid ${String(r.daemon?.pid)}, ${r.daemon?.leader ? 'leader' : 'standby'}; leader: ${r.leader ?? 'none'}` : `No daemon answered; from Redis (source health as last recorded). Leader: ${r.leader ?? 'none'}`);
  for (const s of r.sources) {
    out.push(`Source ${s.source}: ${s.stale ? 'STALE' : 'ok'}, ${s.schedules} schedules${s.held ? `, ${s.held} held` : ''}${s.errors.length ? `, ${s.errors.length} error(s)` : ''} (as of ${new Date(s.at).toISOString()}${s.by ? `, recorded by ${s.by}` : ''})`);
    for (const e of s.errors.slice(0, 10)) out.push(`  ! ${e}`);
  }
  if (r.lastReconcile) out.push(`Last reconcile: ${JSON.stringify(r.lastReconcile)}`);
  out.push('', ...renderStatus(r.schedules));
  return out;
}
