/**
 * Logging: pino JSON lines on stdout by default, `--pretty` for people, `--log-file` for
 * a file that logrotate can rotate (the destination is reopened on SIGUSR2). Secrets in
 * URLs are redacted by a serializer, whatever field they appear in.
 */
import { pino, type Logger } from 'pino';
import { SETTINGS } from './config/settings.js';
import { redactUrl } from './errors.js';

export type { Logger } from 'pino';

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  /** A path, or a file descriptor (2 = stderr). Default stdout. */
  file?: string | number;
  /** Write synchronously (tests and short commands, so nothing is lost at exit). */
  sync?: boolean;
  /** Extra strings never to print (passwords from config). */
  secrets?: readonly string[];
  /** Write each line here instead (the dispatcher thread, when it relays its lines to the main thread's logger). */
  stream?: { write(line: string): void };
}

/**
 * An error as a log field: type, message, code, and the stack only when there is one
 * (a blank `stack` printed as an empty block under `--pretty`). Not an Error (an object
 * like `{ message }`, a string): its message only.
 */
export function serializeError(value: unknown): Record<string, unknown> {
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    const stack = typeof e.stack === 'string' && e.stack.trim() !== '' ? e.stack : undefined;
    return {
      type: e.name,
      message: e.message,
      ...(e.code !== undefined ? { code: e.code } : {}),
      ...(stack ? { stack } : {}),
    };
  }
  if (value !== null && typeof value === 'object') {
    const o = value as { message?: unknown; code?: unknown; stack?: unknown };
    const stack = typeof o.stack === 'string' && o.stack.trim() !== '' ? o.stack : undefined;
    return {
      message: String(o.message ?? JSON.stringify(value)),
      ...(o.code !== undefined ? { code: o.code } : {}),
      ...(stack ? { stack } : {}),
    };
  }
  return { message: String(value) };
}

function scrub(value: unknown, secrets: readonly string[]): unknown {
  // Errors reach the formatter before pino's serializer: keep what matters of them.
  if (value instanceof Error) return scrub(serializeError(value), secrets);
  if (typeof value === 'string') {
    let out = value.includes('://') ? value.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi, (u) => redactUrl(u)) : value;
    for (const s of secrets) if (s.length >= 3 && out.includes(s)) out = out.split(s).join('***');
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = /password|secret|token/i.test(k) ? '***' : scrub(v, secrets);
    return out;
  }
  return value;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 3);
  const options = {
    level: opts.level ?? SETTINGS['log.level'].default,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: (obj: Record<string, unknown>) => scrub(obj, secrets) as Record<string, unknown> },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrub(a, secrets) : a)),
        );
      },
    },
    serializers: { err: (e: unknown) => scrub(serializeError(e), secrets) },
  };
  if (opts.stream) return pino(options, opts.stream);
  if (opts.pretty) {
    return pino(
      options,
      pino.transport({
        target: 'pino-pretty',
        options: { destination: opts.file ?? 1, translateTime: 'SYS:standard', ignore: 'pid,hostname' },
      }),
    );
  }
  const dest = pino.destination({
    dest: opts.file ?? 1,
    sync: opts.sync ?? opts.file === undefined,
    mkdir: typeof opts.file === 'string',
  });
  if (typeof opts.file === 'string') {
    // logrotate: `postrotate kill -USR2 $MAINPID`, or copytruncate.
    process.on('SIGUSR2', () => dest.reopen());
  }
  return pino(options, dest);
}
