import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pyrq } from '../helpers/cli.js';
import {
  makeTlsFiles,
  type SecureServer,
  spawnRedis,
  startPasswordRedis,
  startSentinel,
  startTlsRedis,
  type TlsFiles,
} from '../helpers/redis-secure.js';
import { freePort } from '../helpers/free-port.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/**
 * Redis access through the URL (a password, an ACL user, TLS) and Sentinel through the
 * config, each against its own private server: `pyrq apply` must land the shipped
 * fixtures in the right server, and wrong credentials must fail with exit 1.
 */
const FIXTURES = 13;
let tmp: ReturnType<typeof tmpDir>;
let dir: string;
const servers: SecureServer[] = [];

beforeAll(() => {
  tmp = tmpDir('pyrq-access-');
  dir = join(tmp.path, 'schedules');
  cpSync(join(ROOT, 'fixtures', 'schedules'), dir, { recursive: true });
});
afterAll(async () => {
  for (const s of servers) await s.close();
  tmp?.cleanup();
});

const track = (s: SecureServer) => (servers.push(s), s);
const env = (extra: Record<string, string> = {}) => ({
  PYRQ_CONFIG: undefined,
  PYRQ_REDIS_URL: undefined,
  PYRQ_DIR: dir,
  NODE_EXTRA_CA_CERTS: undefined,
  ...extra,
});
const apply = (args: string[], extra: Record<string, string> = {}) =>
  pyrq(['apply', '--json', ...args], { env: env(extra) });

describe('Redis AUTH and ACL users through the URL', () => {
  it('a password-protected server: redis://:pw@ applies; no or a wrong password exits 1 and writes nothing', async () => {
    const s = track(await startPasswordRedis('pw-requirepass-1'));
    const admin = s.client();
    const url = (auth: string) => `redis://${auth}127.0.0.1:${s.port}/0`;
    const none = await apply(['--redis-url', url('')]);
    expect(none.code).toBe(1);
    expect(none.json().error.code).toBe('REDIS_UNAVAILABLE');
    const wrong = await apply(['--redis-url', url(':wrong-password@')]);
    expect(wrong.code).toBe(1);
    expect(wrong.json().error.message).toMatch(/WRONGPASS|invalid username-password/);
    expect(await admin.dbsize()).toBe(0);
    const ok = await apply(['--redis-url', url(':pw-requirepass-1@')]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(await admin.hlen('pyrq:index')).toBe(FIXTURES);
  });

  it('an ACL user limited to pyrq: keys: redis://pyrquser:pw@ applies, the default user is off', async () => {
    const port = await freePort();
    const s = track(
      await spawnRedis(['--port', String(port), '--requirepass', 'admin-pw-2'], { password: 'admin-pw-2' }, { port }),
    );
    const admin = s.client();
    await admin.call('ACL', 'SETUSER', 'pyrquser', 'on', '>acl-pw-3', '~pyrq:*', '&*', '+@all');
    const url = (pw: string, db = 0) => `redis://pyrquser:${pw}@127.0.0.1:${port}/${db}`;
    const wrong = await apply(['--redis-url', url('not-it')]);
    expect(wrong.code).toBe(1);
    expect(wrong.json().error.code).toBe('REDIS_UNAVAILABLE');
    const ok = await apply(['--redis-url', url('acl-pw-3')]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.json().summary.create).toBe(FIXTURES);
    expect(await admin.hlen('pyrq:index')).toBe(FIXTURES);
    // Every key apply wrote is one the user may touch: pyrq kept to its prefix.
    expect((await admin.keys('*')).filter((k) => !k.startsWith('pyrq:'))).toEqual([]);
    const status = await pyrq(['status', '--no-daemon', '--json', '--redis-url', url('acl-pw-3')], { env: env() });
    expect(status.code).toBe(0);
    expect(status.json().schedules).toHaveLength(FIXTURES);
  });
});

describe('TLS (rediss://) with a throwaway CA', () => {
  let files: TlsFiles;
  beforeAll(() => {
    files = makeTlsFiles(tmp.path);
  });

  it('server without client certificates: the CA through NODE_EXTRA_CA_CERTS, or redis.tls.ca', async () => {
    const s = track(await startTlsRedis(files, false));
    const admin = s.client();
    const url = `rediss://127.0.0.1:${s.port}/0`;
    // Without the CA the certificate is not trusted: exit 1, naming the reason.
    const untrusted = await apply(['--redis-url', url]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.json().error.message).toMatch(/certificate/i);
    // Plain text to a TLS-only port does not work either.
    expect((await apply(['--redis-url', `redis://127.0.0.1:${s.port}/0`])).code).toBe(1);
    expect(await admin.dbsize()).toBe(0);

    const viaEnv = await apply(['--redis-url', url], { NODE_EXTRA_CA_CERTS: files.ca });
    expect(viaEnv.code, viaEnv.stdout + viaEnv.stderr).toBe(0);
    expect(viaEnv.json().summary.create).toBe(FIXTURES);

    const config = join(tmp.path, 'tls-ca.toml');
    writeFileSync(config, `[redis]\nurl = "${url}"\nprefix = "viaconfig:"\n[redis.tls]\nca = "ca.crt"\n`);
    const viaConfig = await apply(['--config', config]);
    expect(viaConfig.code, viaConfig.stdout + viaConfig.stderr).toBe(0);
    expect(viaConfig.json().summary.create).toBe(FIXTURES);
    expect(await admin.hlen('pyrq:index')).toBe(FIXTURES);
    expect(await admin.hlen('viaconfig:index')).toBe(FIXTURES);
  });

  it('server that demands client certificates (its default): redis.tls.cert and key', async () => {
    const s = track(await startTlsRedis(files, true));
    const admin = s.client();
    const url = `rediss://127.0.0.1:${s.port}/0`;
    const noCert = join(tmp.path, 'tls-nocert.toml');
    writeFileSync(noCert, `[redis]\nurl = "${url}"\n[redis.tls]\nca = "ca.crt"\n`);
    expect((await apply(['--config', noCert])).code).toBe(1);
    expect(await admin.dbsize()).toBe(0);

    const withCert = join(tmp.path, 'tls-cert.toml');
    writeFileSync(
      withCert,
      `[redis]\nurl = "${url}"\n[redis.tls]\nca = "ca.crt"\ncert = "client.crt"\nkey = "client.key"\n`,
    );
    const ok = await apply(['--config', withCert]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(await admin.hlen('pyrq:index')).toBe(FIXTURES);
    const diff = await pyrq(['diff', '--config', withCert], { env: env() });
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/No changes/);
  });

  it('refuses redis.tls with a plain redis:// URL, and a certificate without its key', async () => {
    const plain = join(tmp.path, 'tls-plain.toml');
    writeFileSync(plain, `[redis]\nurl = "redis://127.0.0.1:1/0"\n[redis.tls]\nca = "ca.crt"\n`);
    const r = await apply(['--config', plain]);
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(
      /redis\.tls is set but the Redis URL "redis:\/\/127\.0\.0\.1:1\/0" is not rediss:\/\//,
    );
    const half = join(tmp.path, 'tls-half.toml');
    writeFileSync(half, `[redis]\nurl = "rediss://127.0.0.1:1/0"\n[redis.tls]\ncert = "client.crt"\n`);
    const h = await apply(['--config', half]);
    expect(h.code).toBe(1);
    expect(h.json().error.message).toMatch(/cert and key go together/);
  });
});

describe('Sentinel through the config', () => {
  it('apply finds the master through redis.sentinels and redis.name, with the master password from a file', async () => {
    const masterPort = await freePort();
    const master = track(
      await spawnRedis(
        ['--port', String(masterPort), '--requirepass', 'master-pw-4'],
        { password: 'master-pw-4' },
        { port: masterPort },
      ),
    );
    const sentinel = track(await startSentinel(tmp.path, 'pyrqmaster', masterPort, 'master-pw-4'));
    writeFileSync(join(tmp.path, 'master.pw'), 'master-pw-4\n');
    const config = join(tmp.path, 'sentinel.toml');
    // The URL points nowhere: with sentinels configured it must not be used.
    writeFileSync(
      config,
      `[redis]\nurl = "redis://127.0.0.1:1/0"\nsentinels = [{ host = "127.0.0.1", port = ${sentinel.port} }]\nname = "pyrqmaster"\npasswordFile = "master.pw"\n`,
    );
    const r = await apply(['--config', config]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().summary.create).toBe(FIXTURES);
    expect(await master.client().hlen('pyrq:index')).toBe(FIXTURES);
    const again = await apply(['--config', config]);
    expect(again.json().summary).toMatchObject({ create: 0, unchanged: FIXTURES });

    const unknown = join(tmp.path, 'sentinel-unknown.toml');
    writeFileSync(
      unknown,
      `[redis]\nsentinels = [{ host = "127.0.0.1", port = ${sentinel.port} }]\nname = "no-such-master"\n`,
    );
    const bad = await apply(['--config', unknown]);
    expect(bad.code).toBe(1);
    expect(bad.json().error.message).toMatch(/sentinel master "no-such-master"/);
  });
});
