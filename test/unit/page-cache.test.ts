import { describe, expect, it } from 'vitest';
import { PageBusyError, PageCache } from '../../src/http/page-cache.js';
import { hostName, hostRefusal } from '../../src/http/host-check.js';

/** A render that finishes when told to. */
function deferred(): { render: () => Promise<string>; finish(body: string): void; started: boolean } {
  let resolve!: (s: string) => void;
  const d = {
    started: false,
    render: () => {
      d.started = true;
      return new Promise<string>((r) => (resolve = r));
    },
    finish: (body: string) => resolve(body),
  };
  return d;
}

describe('PageCache', () => {
  it('renders a query once per window, shared by views in flight and after', async () => {
    let now = 0;
    const c = new PageCache({ windowMs: 5_000, maxConcurrent: 1, maxWaiting: 4, maxEntries: 8, now: () => now });
    const r = deferred();
    const views = Array.from({ length: 50 }, () => c.get('q', r.render));
    r.finish('page');
    expect(await Promise.all(views)).toEqual(Array(50).fill('page'));
    now = 4_999;
    expect(await c.get('q', () => Promise.resolve('new'))).toBe('page');
    now = 5_000;
    expect(await c.get('q', () => Promise.resolve('new'))).toBe('new');
    expect(c.renders).toBe(2);
  });

  it('runs at most maxConcurrent renders, queues maxWaiting, refuses the rest', async () => {
    const c = new PageCache({ windowMs: 5_000, maxConcurrent: 1, maxWaiting: 2, maxEntries: 8 });
    const rs = Array.from({ length: 4 }, () => deferred());
    const p = rs.slice(0, 3).map((r, i) => c.get(`q${i}`, r.render));
    await Promise.resolve();
    expect(rs.map((r) => r.started)).toEqual([true, false, false, false]);
    await expect(c.get('q3', rs[3]!.render)).rejects.toBeInstanceOf(PageBusyError);
    expect(c.get('q0', () => Promise.resolve('x'))).toBe(p[0]); // in flight: shared, not refused
    rs[0]!.finish('a');
    await p[0];
    await new Promise((r) => setImmediate(r));
    expect(rs[1]!.started).toBe(true);
    expect(rs[2]!.started).toBe(false);
    rs[1]!.finish('b');
    await p[1];
    await new Promise((r) => setImmediate(r));
    rs[2]!.finish('c');
    expect(await p[2]).toBe('c');
  });

  it('forgets a failed render', async () => {
    const c = new PageCache({ windowMs: 5_000, maxConcurrent: 1, maxWaiting: 2, maxEntries: 8 });
    await expect(c.get('q', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await c.get('q', () => Promise.resolve('ok'))).toBe('ok');
  });
});

describe('Host check without a token', () => {
  it('serves loopback names only; IP literals too when listening beyond loopback', () => {
    for (const h of ['localhost', 'localhost:9464', '127.0.0.1:9464', '127.1.2.3', '[::1]:9464', 'LocalHost.'])
      expect(hostRefusal(h, '127.0.0.1', false), h).toBeNull();
    for (const h of ['evil.example', '127.0.0.1.nip.io', 'localhost.evil', '10.0.0.1:9464', '', 'a b'])
      expect(hostRefusal(h, '127.0.0.1', false), h).toMatch(/^this listener has no http.token/);
    expect(hostRefusal(undefined, '127.0.0.1', false)).toMatch(/not "\(none\)"/);
    expect(hostRefusal('10.0.0.1:9464', '0.0.0.0', false)).toBeNull();
    expect(hostRefusal('evil.example', '0.0.0.0', false)).toMatch(/and IP addresses/);
    expect(hostRefusal('evil.example', '127.0.0.1', true)).toBeNull();
    expect(hostName('[::1]:80')).toBe('::1');
  });
});
