/**
 * Whether a SQL source can currently read its database, and what to say about it.
 *
 * Logging is per state change, not per attempt: the first failure, a different kind of
 * failure (say, "connection refused" becoming "access denied"), and the recovery are
 * logged; a server that stays down for an hour of 5-second polls logs once. The retry
 * delay doubles from the poll interval up to a ceiling while failing.
 */
import { redactText } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';

export interface Failure {
  /** What kind of failure: the driver's code (ECONNREFUSED, ER_ACCESS_DENIED_ERROR, a PostgreSQL SQLSTATE such as 42501) or the error's name. */
  kind: string;
  /** One line, passwords removed. */
  message: string;
  since: number;
  attempts: number;
}

export class PollBackoff {
  private current?: Failure;

  constructor(
    /** The source's name (`mysql`, `postgres`), which starts every log line. */
    private readonly source: string,
    private readonly target: string,
    private readonly secrets: readonly (string | undefined)[],
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get failure(): Failure | undefined {
    return this.current;
  }

  get failing(): boolean {
    return this.current !== undefined;
  }

  /** Records a failed read. Returns true when this is a change of state (worth telling the reconciler). */
  fail(err: unknown, goodSchedules: number | undefined): boolean {
    const e = err as { code?: string; name?: string; message?: string };
    const kind = e.code ?? e.name ?? 'Error';
    const text = redactText(String(e.message ?? err).split('\n')[0]!, this.secrets);
    const message = `${e.code && !text.includes(e.code) ? `${text} (${e.code})` : text}${credentialHint(this.source, e.code, text)}`;
    const prev = this.current;
    if (prev && prev.kind === kind) {
      prev.attempts++;
      prev.message = message;
      this.logger?.debug(
        { source: this.source, target: this.target, kind, attempts: prev.attempts },
        `${this.source} source still failing: ${message}`,
      );
      return false;
    }
    this.current = { kind, message, since: prev?.since ?? this.now(), attempts: (prev?.attempts ?? 0) + 1 };
    const kept =
      goodSchedules === undefined
        ? 'no schedules were read yet, so none are reported'
        : `keeping the last good schedules (${goodSchedules})`;
    this.logger?.warn(
      { source: this.source, target: this.target, kind },
      `${this.source} source is stale: cannot read ${this.target}: ${message}; ${kept}; nothing is deleted; retrying with backoff`,
    );
    return true;
  }

  /** Records a good read. Returns true when this ends a failure. */
  ok(): boolean {
    const prev = this.current;
    if (!prev) return false;
    this.current = undefined;
    const secs = Math.round((this.now() - prev.since) / 1000);
    this.logger?.info(
      { source: this.source, target: this.target, downSeconds: secs, attempts: prev.attempts },
      `${this.source} source recovered after ${secs}s (${prev.attempts} failed attempts)`,
    );
    return true;
  }

  /** Delay before the next poll: the interval while healthy, doubling up to `maxMs` while failing. */
  nextDelay(pollMs: number, maxMs: number): number {
    if (!this.current) return pollMs;
    const ceiling = Math.max(pollMs, maxMs);
    return Math.min(ceiling, pollMs * 2 ** Math.min(this.current.attempts - 1, 20));
  }
}

/**
 * What to do about refused credentials: MySQL's "Access denied (using password: NO)"
 * means no password was sent, which is a setting pyrq reads (PYRQ_MYSQL_PASSWORD), not a
 * wrong password. Empty for any other failure. Pure.
 */
export function credentialHint(source: string, code: string | undefined, text: string): string {
  const env = `PYRQ_${source.toUpperCase()}_PASSWORD`;
  const noPassword =
    code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR' ||
    (code === 'ER_ACCESS_DENIED_ERROR' && /using password: NO/.test(text));
  if (noPassword)
    return ` (no password was sent: set ${env}, ${source}.passwordFile in the config file, or the password in the URL)`;
  // MySQL's wrong password; PostgreSQL's invalid_password (28P01) and invalid_authorization_specification (28000).
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === '28P01' || code === '28000')
    return ` (check the user and its password: ${env}, ${source}.passwordFile, or the URL)`;
  return '';
}
