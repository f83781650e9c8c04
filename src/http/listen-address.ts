/**
 * The HTTP listener's address as written in `--http` / `PYRQ_HTTP` / `http.listen`:
 * `PORT` (loopback: 127.0.0.1), `HOST:PORT`, or `[IPv6]:PORT`. Pure.
 */

export interface ListenAddress {
  host: string;
  port: number;
}

/** The address, or a message saying what is wrong with it. */
export function parseListenAddress(text: string): ListenAddress | { error: string } {
  const t = text.trim();
  let host = '127.0.0.1';
  let portText = t;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(t);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (t.includes(':')) {
    const i = t.lastIndexOf(':');
    host = t.slice(0, i);
    portText = t.slice(i + 1);
    if (host === '' || host.includes(':'))
      return { error: `${JSON.stringify(text)}: write an IPv6 address in brackets, e.g. [::1]:9464` };
    if (!/^[A-Za-z0-9.-]+$/.test(host))
      return { error: `${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name or address` };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    return {
      error: `${JSON.stringify(text)}: the port must be a number from 0 to 65535 (0: any free port) ([HOST:]PORT, e.g. 9464 or 0.0.0.0:9464)`,
    };
  return { host, port: Number(portText) };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
