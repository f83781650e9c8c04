import { configSecrets } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { Daemon } from '../../reconcilers/daemon.js';
import { BaseCommand } from '../base-command.js';
import { daemonLogFlags, frappeFlags, httpFlags, redisFlags, socketFlags, sourceFlags, stateFlags } from '../flags.js';
import { exitCodes } from '../help.js';

export default class DaemonCommand extends BaseCommand<typeof DaemonCommand> {
  static override summary = 'Run pyrq as a service: watch the sources, fire on time, serve the socket.';
  static override description = `Starts the configured sources (a watched directory, a polled MySQL or PostgreSQL table, schedules pushed over the socket), reconciles the registry on every change and every resyncInterval (default 15 m, a deep re-sync that repairs drift), and, while it holds the leader lease, fires due schedules as RQ jobs. Several daemons may run against one Redis: one leads, the others stand by and take over within one lease TTL.

Signals: SIGTERM/SIGINT stop gracefully (finish the reconcile or fire in flight, release the lease, remove the socket) and exit 0; SIGHUP reloads the config file; SIGUSR2 reopens --log-file (for logrotate).

Logs are pino JSON lines on stdout (or --log-file); --pretty for people. With --http [HOST:]PORT it also serves Prometheus metrics (/metrics), health checks (/healthz, /readyz) and a status page (/): see docs/observability.md.

${exitCodes({ 0: 'stopped by SIGTERM or SIGINT', 1: 'could not start (a setting, the socket) or a graceful stop took over 10 s' })}`;

  static override examples = [
    {
      description: 'Watch a directory, using a local Redis',
      command: '<%= config.bin %> daemon --dir /etc/pyrq/schedules',
    },
    {
      description: 'Everything from a config file, human-readable logs',
      command: '<%= config.bin %> daemon --config /etc/pyrq/pyrq.toml --pretty',
    },
    {
      description: 'With metrics, health checks and the status page on http://127.0.0.1:9464/',
      command: '<%= config.bin %> daemon --dir /etc/pyrq/schedules --http 9464',
    },
    {
      description: 'BTU: schedules from the Frappe database',
      command:
        'PYRQ_MYSQL_PASSWORD=secret <%= config.bin %> daemon --mysql-url mysql://pyrq@127.0.0.1/erpnext --socket /run/pyrq/pyrq.sock',
    },
  ];

  static override flags = {
    ...redisFlags,
    ...sourceFlags,
    ...frappeFlags,
    ...socketFlags,
    ...stateFlags,
    ...daemonLogFlags,
    ...httpFlags,
  };

  async run(): Promise<void> {
    const cfg = this.loadSettings();
    // Asynchronous writes: a burst of fire log lines must not hold up the next fire.
    const log = {
      level: cfg.log.level,
      pretty: cfg.log.pretty,
      file: cfg.log.file,
      sync: false,
      secrets: configSecrets(cfg),
    };
    const logger = createLogger(log);
    // The dispatcher thread makes a logger of its own with the same options.
    const daemon = new Daemon({ config: cfg, logger, log });
    try {
      await daemon.start();
    } catch (e) {
      // A start that failed (a bad socket path, say) must not leave the Redis connection
      // and the watchers holding the process open: stop what was built, then report.
      await daemon.stop().catch(() => {});
      throw e;
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping');
        const force = setTimeout(() => {
          logger.error('graceful stop took longer than 10 s; exiting');
          process.exit(1);
        }, 10_000);
        force.unref();
        void daemon.stop().then(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => {
        try {
          // The same flags over the config file as it is now (read from the same path).
          const next = loadConfig({ ...this.configFlags(), config: cfg.configFile });
          void daemon.reload(next).catch((err: Error) => logger.error({ err }, 'reload failed'));
        } catch (err) {
          logger.error({ err }, 'config reload failed; keeping the running configuration');
        }
      });
    });
  }
}
