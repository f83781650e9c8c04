/**
 * Hostile schedule files (issue 22, points 4 and 7): a symbolic link out of the schedules
 * directory is refused unread, whatever it points at (a file anyone can read, one in a
 * 0700 directory, a linked directory); what a file holds that is not a schedule is never
 * echoed (in the CLI, in Redis, in the daemon's status); and a file name holding
 * terminal escape sequences or a newline is printed escaped by every command.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/** What must never be printed or stored: it is in every file outside the directory. */
const SECRET = 'SECRETHASH';
const SHADOW = `alice:$6$SECRETSALT$${SECRET}:19000:0:99999:7:::\nbob:*:${SECRET}2:0:99999:7:::\n`;

const schedule = (id: string) => `id: ${id}\nfunction: app.tasks.run\nevery: 1h\nkwargs:\n  note: ${SECRET}\n`;

let server: PrivateRedis;
let tmp: ReturnType<typeof tmpDir>;
let dir: string;

/** Every key's and field's value in the private Redis, as one text. */
async function everythingInRedis(): Promise<string> {
  const r = server.client();
  const out: string[] = [];
  for (const k of await r.keys('*')) {
    const type = await r.type(k);
    out.push(k);
    if (type === 'string') out.push((await r.get(k)) ?? '');
    else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(k)));
    else if (type === 'zset') out.push(JSON.stringify(await r.zrange(k, 0, -1, 'WITHSCORES')));
    else if (type === 'set') out.push(JSON.stringify(await r.smembers(k)));
    else if (type === 'list') out.push(JSON.stringify(await r.lrange(k, 0, -1)));
    else if (type === 'stream') out.push(JSON.stringify(await r.xrange(k, '-', '+')));
  }
  r.disconnect();
  return out.join('\n');
}

beforeAll(async () => {
  server = await startRedis();
  tmp = tmpDir();
  dir = join(tmp.path, 'schedules');
  mkdirSync(dir);
  const outside = join(tmp.path, 'outside');
  mkdirSync(join(outside, 'linked'), { recursive: true });
  mkdirSync(join(outside, 'private'));
  writeFileSync(join(outside, 'shadow'), SHADOW);
  // A valid schedule in a directory only its owner may enter.
  writeFileSync(join(outside, 'private', 'private.yaml'), schedule('private-one'));
  chmodSync(join(outside, 'private'), 0o700);
  writeFileSync(join(outside, 'linked', 'linked.yaml'), schedule('linked-one'));
  writeFileSync(join(dir, 'good.yaml'), 'id: good\nfunction: app.tasks.run\nevery: 1h\n');
  // A link to a file inside the directory stays allowed (its target in a hidden
  // directory, which is not read itself, so the id is defined once).
  mkdirSync(join(dir, '.store'));
  writeFileSync(join(dir, '.store', 'target.yaml'), 'id: inner\nfunction: app.tasks.run\nevery: 1h\n');
  symlinkSync(join(dir, '.store', 'target.yaml'), join(dir, 'inner-link.yml'));
  symlinkSync(join(outside, 'shadow'), join(dir, 'x.yaml'));
  symlinkSync(join(outside, 'private', 'private.yaml'), join(dir, 'private.yaml'));
  symlinkSync(join(outside, 'linked'), join(dir, 'linked'));
});

afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

describe('links out of the schedules directory', () => {
  it('pyrq apply refuses them unread: not applied, not echoed, the rest applied', async () => {
    const r = await pyrq(['apply', '--dir', dir, '--redis-url', server.url]);
    const out = r.stdout + r.stderr;
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('alice');
    expect(out).toContain('x.yaml: a symbolic link to a file outside the schedules directory; refused unread');
    expect(out).toContain('private.yaml: a symbolic link to a file outside the schedules directory');
    const ids = (await server.client().keys('*')).join(' ');
    expect(await everythingInRedis()).not.toContain(SECRET);
    const list = await pyrq(['status', '--redis-url', server.url, '--socket', join(tmp.path, 'none.sock'), '--json']);
    const text = list.stdout + list.stderr;
    expect(text).not.toContain(SECRET);
    expect(text).toContain('"good"');
    expect(text).toContain('"inner"'); // a link that stays inside is read
    expect(text).not.toContain('private-one');
    expect(text).not.toContain('linked-one'); // the linked directory is not walked
    expect(ids).not.toContain('private-one');
  });

  it('pyrq validate and pyrq status say why, without the content', async () => {
    const v = await pyrq(['validate', dir]);
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).not.toContain(SECRET);
    expect(v.stderr).toMatch(/x\.yaml: a symbolic link to a file outside the schedules directory/);
    // status tells what the last apply recorded: this test's own, into a Redis of its own.
    const redis = await startRedis();
    onTestFinished(() => redis.close());
    await pyrq(['apply', '--dir', dir, '--redis-url', redis.url]);
    const s = await pyrq(['status', '--redis-url', redis.url, '--socket', join(tmp.path, 'none.sock')], {
      env: { COLUMNS: '400' },
    });
    expect(s.stdout + s.stderr).not.toContain(SECRET);
    expect(s.stdout).toMatch(/x\.yaml: a symbolic link to a file outside/);
  });

  it('with files.followSymlinksOutside the link is read, and its content still not echoed', async () => {
    const config = join(tmp.path, 'follow.toml');
    writeFileSync(config, `[files]\ndir = "${dir}"\nfollowSymlinksOutside = true\n`);
    const v = await pyrq(['validate', '--config', config]);
    expect(v.code).toBe(1);
    const out = v.stdout + v.stderr;
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('alice');
    // The shadow line parsed as a key of some length, described without its text.
    expect(out).toMatch(/x\.yaml: .*unknown field: a \d+-character key \(not shown: not a field name\)/);
  });

  it('the daemon refuses a link created while it watches, and a linked directory added later', async () => {
    const redis = await startRedis();
    const d2 = tmpDir();
    const watched = join(d2.path, 'schedules');
    mkdirSync(watched);
    writeFileSync(join(watched, 'good.yaml'), 'id: good\nfunction: app.tasks.run\nevery: 1h\n');
    const socket = join(d2.path, 'pyrq.sock');
    let daemon: DaemonProcess | undefined;
    try {
      daemon = await startDaemon(['--dir', watched, '--redis-url', redis.url], { socket });
      await daemon.waitForLog((l) => l.msg === 'reconcile' && (l.created as number) === 1);
      symlinkSync(join(tmp.path, 'outside', 'shadow'), join(watched, 'late.yaml'));
      symlinkSync(join(tmp.path, 'outside', 'linked'), join(watched, 'late-dir'));
      writeFileSync(join(watched, 'after.yaml'), 'id: after\nfunction: app.tasks.run\nevery: 1h\n');
      const s = await eventually(
        async () => {
          const r = await pyrq(['status', '--socket', socket, '--redis-url', redis.url, '--json']);
          return r.stdout.includes('"after"') && r.stdout.includes('late.yaml') ? r : undefined;
        },
        'the daemon applied after.yaml and reported late.yaml',
        20_000,
      );
      expect(s.stdout + s.stderr).not.toContain(SECRET);
      expect(s.stdout).toContain('a symbolic link to a file outside the schedules directory');
      expect(s.stdout).not.toContain('linked-one');
      const r = redis.client();
      const all: string[] = [];
      for (const k of await r.keys('*')) if ((await r.type(k)) === 'hash') all.push(JSON.stringify(await r.hgetall(k)));
      expect(all.join('\n')).not.toContain(SECRET);
      expect(JSON.stringify(daemon.logs)).not.toContain(SECRET);
    } finally {
      await daemon?.stop('SIGKILL');
      await redis.close();
      d2.cleanup();
    }
  });
});

describe('file names with control characters', () => {
  it('are printed escaped by diff, apply, status and validate', async () => {
    const redis = await startRedis();
    const d = tmpDir();
    try {
      const evil = 'evil\u001b[2J\nFAKE LINE\u202e.yaml';
      const broken = 'bad\u001b]0;pwned\u0007.yaml';
      writeFileSync(join(d.path, evil), 'id: evil\nfunction: app.tasks.run\nevery: 1h\n');
      writeFileSync(join(d.path, broken), 'id: broken\nfunction: app.tasks.run\nevery: 0\n');
      const escapedEvil = 'evil\\x1b[2J\\nFAKE LINE\\u202e.yaml';
      const escapedBroken = 'bad\\x1b]0;pwned\\x07.yaml';
      const runs = [
        await pyrq(['diff', '--dir', d.path, '--redis-url', redis.url]),
        await pyrq(['apply', '--dir', d.path, '--redis-url', redis.url]),
        await pyrq(['status', '--redis-url', redis.url, '--socket', join(d.path, 'none.sock')], {
          env: { COLUMNS: '400' },
        }),
        await pyrq(['validate', d.path]),
      ];
      for (const r of runs) {
        const out = r.stdout + r.stderr;
        // eslint-disable-next-line no-control-regex
        expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
        expect(out).not.toMatch(/^FAKE LINE/m);
        expect(out).toContain(escapedBroken);
      }
      for (const r of runs.slice(0, 3)) expect(r.stdout).toContain(escapedEvil);
    } finally {
      await redis.close();
      d.cleanup();
    }
  });
});
