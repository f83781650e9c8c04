/** A control-socket client for the CLI: one request, one reply, with a timeout. */
import net from 'node:net';
import { canonicalStringify, parseJson } from '../canonical-json.js';

export interface ControlReply {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  /** The request's `reqId`, echoed when it had one. */
  reqId?: string | number;
}

export class DaemonUnavailable extends Error {}

/** Why nothing answered at a socket path, in words. */
function whyNoAnswer(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no socket there';
    case 'ECONNREFUSED':
      return 'the socket file exists but nothing listens on it (a daemon that stopped uncleanly left it)';
    case 'EACCES':
    case 'EPERM':
      return "permission denied: run as the daemon's user or a member of its socket group (daemon.socketGroup)";
    case 'ENOTSOCK':
      return 'that file is not a socket';
    default:
      return e.code ?? e.message;
  }
}

/** Sends one native request; rejects with DaemonUnavailable when nothing answers. */
export function request(path: string, req: Record<string, unknown>, timeoutMs = 5000): Promise<ControlReply> {
  // Longer than AF_UNIX allows: the kernel would connect to a truncated path.
  if (Buffer.byteLength(path) > 107)
    return Promise.reject(
      new DaemonUnavailable(
        `no daemon answered at ${path}: the path is ${Buffer.byteLength(path)} bytes long, a Unix socket path can have at most 107`,
      ),
    );
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    let buf = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new DaemonUnavailable(`no daemon answered at ${path} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    s.setEncoding('utf8');
    // canonicalStringify: schedules may carry integers beyond 2^53 (bigint).
    s.on('connect', () => s.write(`${canonicalStringify(req)}\n`));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      const line = buf.slice(0, nl);
      finish(() => {
        try {
          resolve(parseJson(line) as ControlReply);
        } catch (e) {
          reject(new Error(`unreadable reply from the daemon: ${(e as Error).message}`));
        }
      });
    });
    s.on('error', (e: NodeJS.ErrnoException) =>
      finish(() => reject(new DaemonUnavailable(`no daemon answered at ${path}: ${whyNoAnswer(e)}`))),
    );
    s.on('close', () =>
      finish(() =>
        reject(new DaemonUnavailable(`no daemon answered at ${path}: it closed the connection without a reply`)),
      ),
    );
  });
}
