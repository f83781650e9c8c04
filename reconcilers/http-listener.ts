/**
 * The daemon's HTTP listener (`--http`), on every daemon (leader and standby alike).
 * Routes: `/metrics` (Prometheus text), `/healthz` (liveness), `/readyz` (readiness), `/`
 * (the status page), and `POST /action` (the page's pause, resume and run now). When a
 * token is set, `/`, `/metrics` and `/action` require it (`Authorization: Bearer <token>`,
 * or Basic with the token as password so a browser can ask for it); the probes stay
 * open, as Kubernetes and load balancers call them without credentials and they reveal
 * nothing but reasons. Without a token the listener is read-only (`/action` refuses);
 * with one, `/action` also checks the request comes from the page's own origin
 * (src/http/page-actions.ts) and logs each action with who asked.
 *
 * It sees the daemon only through a `DaemonView`; what it renders is built by the pure
 * modules of `src/http/`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PyrqError } from '../src/errors.js';
import { type Attention, emptyAttention, staleSources } from '../src/http/attention.js';
import type { DaemonActions, DaemonView } from '../src/http/daemon-view.js';
import { actionRefusal, MAX_ACTION_BODY, parseActionBody, type ActionRequest } from '../src/http/page-actions.js';
import { liveness, type ProbeResult, readiness } from '../src/http/health.js';
import { hostRefusal } from '../src/http/host-check.js';
import { esc } from '../src/http/html.js';
import { isLoopback } from '../src/http/listen-address.js';
import type { PyrqMetrics } from '../src/http/metrics.js';
import { PageBusyError, PageCache } from '../src/http/page-cache.js';
import {
  SCRIPT_HASH,
  filterRows,
  isOverdue,
  pageRow,
  pageState,
  parsePageQuery,
  renderStatusPage,
} from '../src/http/status-page.js';
import type { Logger } from '../src/log.js';
import type { Schedule } from '../src/model/schedule-schema.js';
import type { Pause } from '../src/registry/pauses.js';
import type { RegistryEntry } from '../src/registry/registry-port.js';
import { type FireSlots, fireSlots } from '../src/schedule/fire-slots.js';
import { orphansOf } from '../src/status/orphans.js';
import { reconcileSentence } from '../src/status/reconcile-summary.js';

export interface HttpListenerOptions {
  host: string;
  port: number;
  token?: string;
  view: DaemonView;
  /** The page's actions; used only when `token` is set. */
  actions?: DaemonActions;
  metrics: PyrqMetrics;
  logger: Logger;
}

/** How often the event loop's lag is sampled. */
const LAG_SAMPLE_MS = 500;

/**
 * Connection limits (issue 22: 484 idle connections starved the daemon of file
 * descriptors). A connection that sends nothing for `IDLE_TIMEOUT_MS` is closed, as is one
 * that has not sent a whole request head within `HEADERS_TIMEOUT_MS` or a whole request
 * within `REQUEST_TIMEOUT_MS`; beyond `MAX_CONNECTIONS` open connections, new ones are
 * closed at once. Documented in docs/security.md.
 */
export const HTTP_LIMITS = {
  IDLE_TIMEOUT_MS: 10_000,
  KEEP_ALIVE_TIMEOUT_MS: 5_000,
  HEADERS_TIMEOUT_MS: 10_000,
  REQUEST_TIMEOUT_MS: 30_000,
  MAX_CONNECTIONS: 128,
  /** A status page view is reused for this long (the same query). */
  PAGE_WINDOW_MS: 5_000,
  PAGE_MAX_CONCURRENT_RENDERS: 1,
  PAGE_MAX_WAITING_VIEWS: 16,
  /** The chart of the next day's fires is computed at most this often. */
  CHART_WINDOW_MS: 30_000,
} as const;

/** The page could not read the registry: a 503 page saying so. */
class RegistryUnreadable extends Error {}

/**
 * One header per challenge, Basic first: Chromium reads only the first challenge of a
 * combined header (`Bearer …, Basic …`), so it never asked for the token.
 */
const CHALLENGES = ['Basic realm="pyrq"', 'Bearer realm="pyrq"'];

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it a browser sends `Origin: null` on the page's own POSTs, and
  // the actions' same-origin check needs the origin. Nothing is sent to other sites.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export class HttpListener {
  private server?: Server;
  private lagTimer?: NodeJS.Timeout;
  private lagMs = 0;
  private readonly tokenDigest?: Buffer;
  /** The page's read of every entry, shared by concurrent views and reused for 2 s. */
  private entriesRead?: { done: number | null; p: Promise<RegistryEntry[]> };
  /** The last chart, reused for `CHART_WINDOW_MS` (it walks every schedule's next day). */
  private chart?: { at: number; slots: FireSlots };
  private readonly pages = new PageCache({
    windowMs: HTTP_LIMITS.PAGE_WINDOW_MS,
    maxConcurrent: HTTP_LIMITS.PAGE_MAX_CONCURRENT_RENDERS,
    maxWaiting: HTTP_LIMITS.PAGE_MAX_WAITING_VIEWS,
    maxEntries: 32,
  });

  constructor(private readonly opts: HttpListenerOptions) {
    if (opts.token !== undefined) this.tokenDigest = digest(opts.token);
  }

  /** Listens; a port in use or an address this machine does not have is a start-up error. */
  async start(): Promise<void> {
    const { host, port, logger } = this.opts;
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = HTTP_LIMITS.KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = HTTP_LIMITS.HEADERS_TIMEOUT_MS;
    server.requestTimeout = HTTP_LIMITS.REQUEST_TIMEOUT_MS;
    // Node checks the two timeouts above only once a request has begun: a connection that
    // sends nothing at all is closed by this inactivity timeout (no 'timeout' listener: destroyed).
    server.timeout = HTTP_LIMITS.IDLE_TIMEOUT_MS;
    server.maxConnections = HTTP_LIMITS.MAX_CONNECTIONS;
    // Checked once a second (default 30 s), so that the timeouts above are kept to the second.
    (server as unknown as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why =
          e.code === 'EADDRINUSE'
            ? 'the port is in use'
            : e.code === 'EADDRNOTAVAIL'
              ? 'this machine has no such address'
              : e.code === 'EACCES'
                ? 'permission denied (ports below 1024 need privileges)'
                : e.code === 'ENOTFOUND'
                  ? 'the host name does not resolve'
                  : e.message;
        reject(new PyrqError('CONFIG_INVALID', `http.listen: cannot listen on ${host}:${port}: ${why}`));
      });
      server.listen(port, host, () => resolve());
    });
    server.on('error', (e) => logger.error({ err: e }, 'http listener error'));
    this.server = server;
    this.sampleLag();
    if (!isLoopback(host) && this.tokenDigest === undefined)
      logger.warn(
        { host, port },
        'http listener reachable beyond loopback without http.token: the status page and metrics are open to anyone who can connect',
      );
    logger.info(
      {
        http: `${host.includes(':') ? `[${host}]` : host}:${this.port}`,
        // Not a field named "token": the log scrubs such fields to "***" whatever they hold.
        auth: this.tokenDigest !== undefined ? 'token' : 'none',
      },
      'http listener started',
    );
  }

  /** The port listened on (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  async close(): Promise<void> {
    if (this.lagTimer) clearTimeout(this.lagTimer);
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Measures how late a timer fires: the event loop's lag. */
  private sampleLag(): void {
    const due = performance.now() + LAG_SAMPLE_MS;
    this.lagTimer = setTimeout(() => {
      this.lagMs = Math.max(0, performance.now() - due);
      this.sampleLag();
    }, LAG_SAMPLE_MS);
    this.lagTimer.unref();
  }

  private authorized(req: IncomingMessage): boolean {
    return this.tokenDigest === undefined || this.credential(req) !== null;
  }

  /** How the request carries the token (null: it does not, or there is no token). */
  private credential(req: IncomingMessage): 'bearer' | 'basic' | null {
    if (this.tokenDigest === undefined) return null;
    const h = req.headers.authorization ?? '';
    let given: string | undefined;
    let kind: 'bearer' | 'basic' | null = null;
    if (/^bearer /i.test(h)) [given, kind] = [h.slice(7).trim(), 'bearer'];
    else if (/^basic /i.test(h)) {
      const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
      [given, kind] = [decoded.slice(decoded.indexOf(':') + 1), 'basic'];
    }
    return given !== undefined && timingSafeEqual(digest(given), this.tokenDigest) ? kind : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://pyrq.invalid');
      if (url.pathname === '/action') return await this.action(req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return send(
          res,
          405,
          { allow: 'GET, HEAD', 'content-type': 'text/plain' },
          'method not allowed: this listener is read-only\n',
        );
      const path = url.pathname;
      if (path === '/healthz') return probe(res, liveness(this.lagMs));
      if (path === '/readyz') return probe(res, await this.readiness());
      const misdirected = hostRefusal(req.headers.host, this.opts.host, this.tokenDigest !== undefined);
      if (misdirected !== null) return send(res, 421, { 'content-type': 'text/plain' }, `${misdirected}\n`);
      if (path !== '/metrics' && path !== '/')
        return send(res, 404, { 'content-type': 'text/plain' }, 'not found: try /, /metrics, /healthz or /readyz\n');
      if (!this.authorized(req))
        return send(
          res,
          401,
          { 'www-authenticate': CHALLENGES, 'content-type': 'text/plain' },
          'unauthorized: send the http.token as a bearer token\n',
        );
      if (path === '/metrics') {
        const m = await this.opts.metrics.text();
        return send(res, 200, { 'content-type': m.contentType, 'cache-control': 'no-store' }, m.body);
      }
      return await this.page(res, url.searchParams, this.tokenDigest !== undefined);
    } catch (err) {
      this.opts.logger.error({ err, url: req.url }, 'http request failed');
      if (!res.headersSent) send(res, 500, { 'content-type': 'text/plain' }, 'internal error (see the daemon log)\n');
      else res.end();
    }
  }

  /**
   * Every entry, for the page: a large registry takes a while to read, so views that
   * arrive while a read is in flight, or within 2 s of one, share it.
   */
  private entries(): Promise<RegistryEntry[]> {
    const r = this.entriesRead;
    if (r && (r.done === null || performance.now() - r.done < 2_000)) return r.p;
    const read = { done: null as number | null, p: this.opts.view.entries() };
    read.p.then(
      () => (read.done = performance.now()),
      () => {
        if (this.entriesRead === read) this.entriesRead = undefined;
      },
    );
    this.entriesRead = read;
    return read.p;
  }

  private async readiness(): Promise<ProbeResult> {
    const v = this.opts.view;
    const sources = await v.sources().catch(() => null);
    return readiness({ redisReady: v.redisReady(), role: v.role(), configuredSources: v.configuredSources(), sources });
  }

  private async page(res: ServerResponse, params: URLSearchParams, actions: boolean): Promise<void> {
    const query = parsePageQuery(params);
    let body: string;
    try {
      body = await this.pages.get(JSON.stringify(query), () => this.renderPage(query, actions));
    } catch (e) {
      if (e instanceof PageBusyError)
        return send(
          res,
          503,
          { 'content-type': 'text/plain', 'retry-after': String(e.retryAfterSeconds), 'cache-control': 'no-store' },
          `busy: ${e.message}\n`,
        );
      if (!(e instanceof RegistryUnreadable)) throw e;
      return send(
        res,
        503,
        PAGE_HEADERS,
        `<!doctype html><meta charset="utf-8"><title>pyrq status</title><h1>pyrq status</h1><p>The registry cannot be read: ${esc(e.message)}. See <a href="readyz">/readyz</a>.</p>`,
      );
    }
    send(res, 200, PAGE_HEADERS, body);
  }

  /** The pauses with since and why (a view without them: the paused ids, since unknown). */
  private async pauses(): Promise<Map<string, Pause>> {
    const v = this.opts.view;
    if (v.pauses) return v.pauses();
    return new Map([...(await v.paused())].map((id) => [id, { since: 0 }]));
  }

  /** The next day's fires per slot: computed at most every `CHART_WINDOW_MS`, and timed in the debug log. */
  private fireChart(entries: readonly RegistryEntry[], pauses: ReadonlyMap<string, Pause>): FireSlots {
    const now = Date.now();
    if (this.chart && now - this.chart.at < HTTP_LIMITS.CHART_WINDOW_MS) return this.chart.slots;
    const t0 = performance.now();
    const slots = fireSlots(
      entries.map((e) => ({ spec: e.spec, next: e.next, paused: pauses.has(e.id) })),
      now,
    );
    this.opts.logger.debug(
      { ms: Math.round(performance.now() - t0), schedules: entries.length, estimated: slots.estimated },
      'fire chart computed',
    );
    this.chart = { at: now, slots };
    return slots;
  }

  /**
   * `POST /action`: pause, resume or run one schedule, for the page's buttons. Refused
   * without a token, without the token, and from another origin (page-actions.ts). Each
   * attempt is logged: who (remote address), what (action, schedule), and the result.
   */
  private async action(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logger } = this.opts;
    const who = { remote: req.socket.remoteAddress ?? '', origin: req.headers.origin };
    if (req.method !== 'POST')
      return send(res, 405, { allow: 'POST', 'content-type': 'text/plain' }, 'method not allowed: POST only\n');
    const actions = this.opts.actions;
    const refusal = actionRefusal(req.headers, {
      hasToken: this.tokenDigest !== undefined && actions !== undefined,
      auth: this.credential(req),
    });
    if (refusal !== null) {
      logger.warn({ ...who, reason: refusal.message }, 'http action refused');
      return send(
        res,
        refusal.status,
        {
          'content-type': 'text/plain',
          ...(refusal.status === 401 ? { 'www-authenticate': CHALLENGES } : {}),
        },
        `${refusal.message}\n`,
      );
    }
    const body = await readBody(req, MAX_ACTION_BODY);
    const asked = body === null ? { error: `the body is over ${MAX_ACTION_BODY} bytes` } : parseActionBody(body);
    if ('error' in asked) {
      logger.warn({ ...who, reason: asked.error }, 'http action refused');
      return send(res, 400, { 'content-type': 'text/plain' }, `bad request: ${asked.error}\n`);
    }
    let result: { status: number; text: string; fields: Record<string, unknown> };
    try {
      result = await this.act(actions!, asked);
    } catch (e) {
      const err = e as Error & { code?: string };
      const status = err.code === 'NOT_FOUND' ? 404 : err.code === 'VALIDATION_FAILED' ? 409 : 500;
      logger.warn({ ...who, action: asked.action, id: asked.id, err: err.message }, 'http action failed');
      return send(res, status, PAGE_HEADERS, actionPage(`${asked.action} ${asked.id}: ${err.message}`));
    }
    // The next view shows the change: no cached page or registry read from before it.
    this.pages.clear();
    this.entriesRead = undefined;
    this.chart = undefined;
    logger.info({ ...who, action: asked.action, id: asked.id, ...result.fields }, `http action: ${result.text}`);
    send(res, result.status, PAGE_HEADERS, actionPage(result.text));
  }

  /** One action through the daemon's core calls, and how to report it. */
  private async act(
    a: DaemonActions,
    r: ActionRequest,
  ): Promise<{ status: number; text: string; fields: Record<string, unknown> }> {
    switch (r.action) {
      case 'pause': {
        const o = await a.pause(r.id, r.reason);
        if (o.missing.length > 0)
          return { status: 404, text: `no schedule "${r.id}" in the registry`, fields: { ...o } };
        return {
          status: 200,
          text: o.already.length > 0 ? `${r.id} was paused already (its first pause is kept)` : `paused ${r.id}`,
          fields: { ...o },
        };
      }
      case 'resume': {
        const o = await a.resume(r.id);
        return {
          status: 200,
          text: o.notPaused.length > 0 ? `${r.id} was not paused` : `resumed ${r.id}`,
          fields: { ...o },
        };
      }
      case 'run': {
        const o = await a.runNow(r.id);
        return {
          status: 200,
          text: `enqueued ${o.jobId} on queue ${o.queue} (${o.function}) for ${r.id}`,
          fields: { jobId: o.jobId, queue: o.queue },
        };
      }
    }
  }

  /** Reads and renders the page for one query (through `pages`: at most once per window). */
  private async renderPage(query: ReturnType<typeof parsePageQuery>, actions: boolean): Promise<string> {
    const v = this.opts.view;
    let entries;
    let sources;
    let pauses: Map<string, Pause>;
    try {
      [entries, sources, pauses] = await Promise.all([this.entries(), v.sources(), this.pauses()]);
    } catch (e) {
      throw new RegistryUnreadable((e as Error).message);
    }
    const specs = entries.map((e) => e.spec).filter((s): s is Schedule => s !== undefined);
    const queuesWithoutWorker = v.queuesWithoutWorker
      ? await v.queuesWithoutWorker(specs.filter((s) => !pauses.has(s.id))).catch(() => null)
      : null;
    // failing / overdue: from the job outcomes the leader's outcome reader stored with each
    // schedule; they make the banner's lines, the rows' state and the filter's choices.
    const now = Date.now();
    // Each row is built once (a row's trigger text, outcomes and next fire are the costly
    // part of a page of thousands); its state then takes the verdicts the rows themselves gave.
    const rows = entries.map((e) => pageRow(e, { paused: pauses }));
    const attention: Attention = {
      ...emptyAttention(),
      failing: rows.filter((r) => r.job.failing).map((r) => r.id),
      overdue: rows.filter((r) => isOverdue(r, now)).map((r) => r.id),
      staleSources: staleSources(sources),
      orphans: orphansOf(new Map(entries.map((e) => [e.id, e])), v.configuredSources()),
      paused: entries.filter((e) => pauses.has(e.id)).map((e) => e.id),
      queuesWithoutWorker,
    };
    const last = v.lastReconcile();
    // The sentence `pyrq status` prints, with the time as UTC (a page is read later than it is rendered).
    const lastText = last.error
      ? `Last reconcile failed at ${new Date(last.error.at).toISOString()}: ${last.error.message}`
      : last.summary
        ? reconcileSentence(last.summary, (ms) => `at ${new Date(Date.now() - ms).toISOString()}`, Date.now())
        : null;
    const rowContext = { paused: pauses, failing: new Set(attention.failing), overdue: new Set(attention.overdue) };
    const t0 = performance.now();
    const body = renderStatusPage({
      now,
      role: v.role(),
      sources,
      rows: filterRows(
        rows.map((r, i) => ({ ...r, state: pageState(entries[i]!, rowContext) })),
        query,
      ),
      total: entries.length,
      query,
      lastReconcile: lastText,
      attention,
      chart: this.fireChart(entries, pauses),
      actions: actions && this.opts.actions !== undefined,
    });
    this.opts.logger.debug(
      { ms: Math.round(performance.now() - t0), bytes: body.length, rows: entries.length },
      'status page rendered',
    );
    return body;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The answer to an action: what happened, and the way back (after a moment, on its own). */
function actionPage(text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pyrq: ${esc(text)}</title><meta http-equiv="refresh" content="3;url=./"></head><body><p id="result">${esc(text)}</p><p><a href="./">Back to the status page</a></p></body></html>`;
}

/** The request body as text, or null when it is longer than `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) return null;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function probe(res: ServerResponse, r: ProbeResult): void {
  send(
    res,
    r.status,
    { 'content-type': 'application/json', 'cache-control': 'no-store' },
    `${JSON.stringify(r.body)}\n`,
  );
}

function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
