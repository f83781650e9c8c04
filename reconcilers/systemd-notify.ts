/**
 * systemd's notify protocol (`Type=notify`) without native code: Node cannot send a
 * datagram to a Unix socket, so each message is one run of `systemd-notify`, which
 * (systemd >= 246) waits until the service manager has read it (a barrier), so the
 * message is never lost to the race of a sender that exited first. The unit needs
 * `NotifyAccess=all`, as the sender is a child process, not the main PID.
 *
 * Active only when systemd set `NOTIFY_SOCKET`; watchdog pings only when it set
 * `WATCHDOG_USEC` (for this process: `WATCHDOG_PID`, when given, must be ours).
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../src/log.js';

export class SystemdNotifier {
  private watchdog?: NodeJS.Timeout;
  private failedOnce = false;

  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    private readonly bin: string,
  ) {}

  /** A notifier when started by systemd with `Type=notify` (NOTIFY_SOCKET set), else undefined. */
  static fromEnv(env: NodeJS.ProcessEnv, logger: Logger, bin = 'systemd-notify'): SystemdNotifier | undefined {
    return env.NOTIFY_SOCKET ? new SystemdNotifier(env, logger, bin) : undefined;
  }

  /** Start-up is complete (first reconcile done, or the leader known): READY=1 with a status line. */
  ready(status: string): Promise<void> {
    return this.send(['--ready', `--status=${status}`]);
  }

  status(text: string): Promise<void> {
    return this.send([`--status=${text}`]);
  }

  stopping(): Promise<void> {
    return this.send(['STOPPING=1']);
  }

  /**
   * Pings the watchdog at half its interval while `alive()` says the daemon works (the
   * event loop runs the timer at all, and the caller's check passes).
   */
  startWatchdog(alive: () => boolean): void {
    const usec = Number(this.env.WATCHDOG_USEC);
    const pid = this.env.WATCHDOG_PID;
    if (!Number.isFinite(usec) || usec <= 0 || (pid !== undefined && pid !== '' && Number(pid) !== process.pid)) return;
    const every = Math.max(Math.floor(usec / 2000), 500);
    const tick = () => {
      if (alive()) void this.send(['WATCHDOG=1']);
      this.watchdog = setTimeout(tick, every);
      this.watchdog.unref();
    };
    tick();
    this.logger.info({ everyMs: every }, 'systemd watchdog pings on');
  }

  close(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
  }

  private send(args: string[]): Promise<void> {
    return new Promise((resolve) => {
      execFile(this.bin, args, { env: this.env, timeout: 5_000 }, (err) => {
        if (err && !this.failedOnce) {
          this.failedOnce = true; // logged once: a missing systemd-notify must not flood the log
          this.logger.warn({ err: { message: err.message }, args }, 'systemd-notify failed');
        }
        resolve();
      });
    });
  }
}
