/**
 * The status page's actions (pause, resume, run now): which requests may act, and what
 * they ask. Pure; the listener (reconcilers/http-listener.ts) does the rest.
 *
 * Rules (docs/security.md):
 * - Only with a token (`http.token`): without one the listener is read-only.
 * - `POST /action` only, with the token, as for the page: `Authorization: Bearer`, or the
 *   Basic credentials the browser asked for when the page was opened. The token is never
 *   in a URL or in the page.
 * - Cross-site request forgery: a browser sends Basic credentials with any request to
 *   this origin, also one a page of another site makes it send. So a request with Basic
 *   credentials must carry an `Origin` whose host is the `Host` it was sent to (browsers
 *   send `Origin` with every POST; the page's `Referrer-Policy: same-origin` keeps it from
 *   being `null`), and a `Sec-Fetch-Site`, when sent, must be `same-origin`. Another
 *   site's page can send neither. A request with a Bearer token (a script, curl) carries
 *   a credential no browser adds on its own; an `Origin` it sends must still match.
 */
import { hostName } from './host-check.js';

export const ACTIONS = ['pause', 'resume', 'run'] as const;
export type PageAction = (typeof ACTIONS)[number];

export interface ActionRequest {
  action: PageAction;
  id: string;
  /** Why (pause only; optional). */
  reason?: string;
}

/** The request headers the checks read (lower-case names, as Node gives them). */
export interface ActionHeaders {
  host?: string;
  origin?: string;
  'sec-fetch-site'?: string;
  'content-type'?: string;
}

/** Bodies larger than this are refused (an id and a reason). */
export const MAX_ACTION_BODY = 4096;

/** Why a request may not act (null: it may), with its HTTP status. `auth`: how it authenticated. */
export function actionRefusal(
  h: ActionHeaders,
  o: { hasToken: boolean; auth: 'bearer' | 'basic' | null },
): { status: number; message: string } | null {
  if (!o.hasToken)
    return {
      status: 403,
      message:
        'actions are off: this listener has no http.token (set http.tokenFile or http.token to pause, resume and run schedules from the page)',
    };
  if (o.auth === null) return { status: 401, message: 'unauthorized: send the http.token' };
  const site = h['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return { status: 403, message: `refused: a cross-site request (Sec-Fetch-Site: ${site.slice(0, 40)})` };
  if (h.origin === undefined) {
    if (o.auth === 'bearer') return null;
    return { status: 403, message: 'refused: a browser request without an Origin header' };
  }
  if (!sameOrigin(h.origin, h.host))
    return {
      status: 403,
      message: `refused: Origin ${JSON.stringify(h.origin.slice(0, 100))} is not this listener (Host ${JSON.stringify((h.host ?? '').slice(0, 100))})`,
    };
  return null;
}

/**
 * The Origin names the Host the request was sent to. Only host and port are compared:
 * behind a TLS-terminating proxy the page's origin is https while the listener speaks
 * http (the proxy must pass `Host` through).
 */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // "null", or garbage
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  const want = hostName(host);
  if (want === null) return false;
  const wantPort = /:(\d{1,5})$/.exec(host.trim())?.[1] ?? '';
  const gotHost = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const gotPort = u.port || (u.protocol === 'https:' ? '443' : '80');
  const portOk = wantPort === '' ? gotPort === '80' || gotPort === '443' : gotPort === wantPort;
  return gotHost === want && portOk;
}

/** The action a form body asks for (`application/x-www-form-urlencoded`), or why it is not one. */
export function parseActionBody(body: string): ActionRequest | { error: string } {
  const p = new URLSearchParams(body);
  const action = p.get('action') ?? '';
  const id = p.get('id') ?? '';
  if (!(ACTIONS as readonly string[]).includes(action))
    return { error: `unknown action ${JSON.stringify(action.slice(0, 40))} (pause, resume or run)` };
  if (id === '' || id.length > 512) return { error: 'no schedule id' };
  const reason = p.get('reason')?.trim();
  return { action: action as PageAction, id, ...(reason ? { reason: reason.slice(0, 500) } : {}) };
}
