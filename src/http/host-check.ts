/**
 * DNS rebinding (issue 22): without `http.token`, a web page on another site could make
 * a local browser read the status page and metrics by pointing its own host name at
 * 127.0.0.1. The browser then sends that name in `Host`, so a listener without a token
 * serves only `Host` values that cannot be such a name: the loopback names (`localhost`,
 * `127.0.0.1` and the rest of 127/8, `[::1]`), with or without a port, and, when the
 * listener is reachable beyond loopback on purpose, IP address literals (a rebinding
 * attack needs a name it controls). With a token, every request is authenticated instead
 * and `Host` is not checked. The probes are not checked either: they reveal nothing.
 * Pure.
 */
import { isIP } from 'node:net';
import { isLoopback } from './listen-address.js';

/** A loopback name or address, exactly (`127.0.0.1.nip.io` is not one). */
function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

/** The host part of a `Host` header (brackets of an IPv6 literal removed, port dropped), lower-cased; null if malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return v6[1]!;
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, '') : null;
}

/**
 * Why a request with this `Host` header is refused (null: it is served). `listenHost`: the
 * address the listener is bound to.
 */
export function hostRefusal(header: string | undefined, listenHost: string, hasToken: boolean): string | null {
  if (hasToken) return null;
  const name = header === undefined ? null : hostName(header);
  if (name !== null && isLoopbackName(name)) return null;
  if (name !== null && !isLoopback(listenHost) && isIP(name) !== 0) return null;
  return `this listener has no http.token, so it serves only loopback host names (localhost, 127.0.0.1, [::1])${isLoopback(listenHost) ? '' : ' and IP addresses'}, not ${JSON.stringify((header ?? '(none)').slice(0, 100))}: use one of those, or set http.token`;
}
