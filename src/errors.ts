/**
 * The error catalogue (fastify's lib/errors.js): every error pyrq reports on purpose has
 * a stable code, a message that names the file, field or id and says what to do, and an
 * exit code. `--json` output carries the code, so scripts never parse messages.
 */

/**
 * The exit code of a usage error (an unknown command or flag, a missing argument):
 * sysexits' EX_USAGE. Not 2, which `diff` and `apply --dry-run` use for "changes pending".
 */
export const USAGE_EXIT = 64;

export const ERROR_CODES = {
  CONFIG_INVALID: { exit: 1, summary: 'the configuration file or a setting is invalid' },
  CONFIG_NOT_FOUND: { exit: 1, summary: 'the configuration file does not exist' },
  NO_SOURCES: { exit: 1, summary: 'no source is configured (use --dir, --mysql-url, --postgres-url or a config file)' },
  REDIS_UNAVAILABLE: { exit: 1, summary: 'Redis could not be reached' },
  SOURCE_ERRORS: { exit: 1, summary: 'some schedules could not be read or validated (the rest were handled)' },
  VALIDATION_FAILED: { exit: 1, summary: 'files did not validate' },
  NOT_FOUND: { exit: 1, summary: 'no such schedule' },
  DAEMON_UNAVAILABLE: { exit: 1, summary: 'no daemon answered on the socket' },
  DAEMON_ERROR: { exit: 1, summary: 'the daemon refused the request' },
  STALE_PLAN: { exit: 1, summary: 'the registry changed while the plan was applied' },
  OWNED_BY_DAEMON: {
    exit: 3,
    summary: 'a running daemon owns the source with another configuration (refused; --force overrides)',
  },
  UNKNOWN_SOURCE: { exit: 1, summary: 'no source of that name is known' },
  USAGE: { exit: USAGE_EXIT, summary: 'the command line is wrong: an unknown command or flag, a missing argument' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PyrqError extends Error {
  readonly exitCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'PyrqError';
    this.exitCode = ERROR_CODES[code].exit;
  }
}

/**
 * Removes passwords from URLs (`redis://:secret@host` -> `redis://:***@host`). The
 * credentials end at the *last* `@`, as ioredis and WHATWG URLs read them: a password
 * such as `p@ss` may be written unencoded, and stopping at its first `@` printed `ss`.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)(\S*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon === -1 ? `${scheme}${auth}@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

/** Replaces every occurrence of known secrets in free text (error messages from drivers). */
export function redactText(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s"']*@)/gi, (m) => redactUrl(m));
}
