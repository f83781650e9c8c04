/**
 * Bounds what status page views cost (issue 22): a page for a given query is rendered at
 * most once per `windowMs` (views within that window get the same bytes), renders run at
 * most `maxConcurrent` at a time, and at most `maxWaiting` views wait for one; a view
 * beyond that is refused (`PageBusyError`, which the listener answers with 503 and
 * `Retry-After`). A render of 5,000 schedules takes ~0.6 s of CPU: without these, 200
 * parallel views delay every timer of the daemon, firing included.
 *
 * No I/O of its own; the clock is injectable.
 */

export class PageBusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the status page is being rendered for other views; retry shortly');
  }
}

export interface PageCacheOptions {
  /** A render is reused for this long (ms). */
  windowMs: number;
  /** Renders in progress at most. */
  maxConcurrent: number;
  /** Views waiting for a render slot at most. */
  maxWaiting: number;
  /** Distinct queries kept at most (oldest dropped first). */
  maxEntries: number;
  now?: () => number;
}

interface Cached {
  at: number | null;
  body: Promise<string>;
}

export class PageCache {
  private readonly cache = new Map<string, Cached>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Renders done since start: what the tests count. */
  renders = 0;

  constructor(private readonly o: PageCacheOptions) {}

  private now(): number {
    return (this.o.now ?? performance.now.bind(performance))();
  }

  /** The page for `key`: a render of the last `windowMs`, one in progress, or a new one (`render`). */
  get(key: string, render: () => Promise<string>): Promise<string> {
    const hit = this.cache.get(key);
    if (hit && (hit.at === null || this.now() - hit.at < this.o.windowMs)) return hit.body;
    if (this.running >= this.o.maxConcurrent && this.waiting.length >= this.o.maxWaiting)
      return Promise.reject(new PageBusyError(Math.max(1, Math.ceil(this.o.windowMs / 1000))));
    const entry: Cached = { at: null, body: this.run(render) };
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.o.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    entry.body.then(
      () => (entry.at = this.now()),
      () => {
        if (this.cache.get(key) === entry) this.cache.delete(key);
      },
    );
    return entry.body;
  }

  /** Forgets every render (the registry changed here: an action). Renders in progress finish for their views. */
  clear(): void {
    this.cache.clear();
  }

  private async run(render: () => Promise<string>): Promise<string> {
    if (this.running >= this.o.maxConcurrent) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      this.renders++;
      return await render();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
