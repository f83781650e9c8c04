/** A control-socket client for the CLI: one request, one reply, with a timeout. */
import net from 'node:net';
import { canonicalStringify, parseJson } from '../canonical-json.js';

export interface ControlReply {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export class DaemonUnavailable extends Error {}

/** Sends one native request; rejects with DaemonUnavailable when nothing answers. */
export function request(path: string, req: Record<string, unknown>, timeoutMs = 5000): Promise<ControlReply> {
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
    const timer = setTimeout(() => finish(() => reject(new DaemonUnavailable(`no reply from the daemon on ${path} within ${timeoutMs} ms`))), timeoutMs);
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
    s.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(new DaemonUnavailable(`no daemon on ${path} (${e.code ?? e.message})`))));
    s.on('close', () => finish(() => reject(new DaemonUnavailable(`the daemon on ${path} closed the connection without a reply`))));
  });
}
