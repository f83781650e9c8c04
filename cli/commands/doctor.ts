import { BaseCommand } from '../base-command.js';
import { frappeFlags, redisFlags, sourceFlags } from '../flags.js';
import { exitCodes } from '../help.js';
import { renderDoctor } from '../render/doctor.js';
import type { DoctorReport } from '../../src/doctor/run-doctor.js';
import { DOCTOR_EXIT } from '../../src/doctor/check.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check the set-up: Redis, sources, RQ workers, Frappe, the daemon, the registry.';
  static override description = `For the configuration at hand (the same flags and config file as the daemon): Redis (reachable, version, persistence, clock offset from this machine), every configured source (readable, how many schedules, errors; what the daemon last recorded), the Frappe site and bench id when BTU mode or Frappe schedules are configured, at least one live RQ worker on every queue enabled schedules use (RQ's worker registry), the daemon (leader, lease age, standbys, clock offsets), orphaned entries and paused schedules.

Each finding is printed as ok, warn or fail, with what to do. Nothing is written.

${exitCodes({ 0: 'every check is ok', 1: 'the command itself failed (a bad setting or config file)', 3: 'the worst finding is a warning', 4: 'some check failed' })}`;

  static override examples = [
    {
      description: 'Check what the daemon runs with',
      command: '<%= config.bin %> doctor --config /etc/pyrq/pyrq.toml',
    },
    {
      description: 'A directory of schedules against a local Redis, as JSON',
      command: '<%= config.bin %> doctor --dir /etc/pyrq/schedules --json',
    },
  ];

  static override flags = { ...redisFlags, ...sourceFlags, ...frappeFlags };

  async run(): Promise<DoctorReport> {
    const cfg = this.loadSettings();
    const { runDoctor } = await import('../../src/doctor/run-doctor.js');
    const report = await runDoctor(cfg, { logger: await this.log_() });
    if (!this.jsonEnabled()) this.log(renderDoctor(report).join('\n'));
    process.exitCode = DOCTOR_EXIT[report.worst];
    return report;
  }
}
