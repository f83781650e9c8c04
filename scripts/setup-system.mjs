#!/usr/bin/env node
// Sets up a Debian/Ubuntu machine for pyrq's demo and tests: checks the system packages
// and services they need, installs and starts what is missing when it can (as root, or
// with password-less sudo; apt-get runs non-interactively), and otherwise prints the
// exact commands to run and exits 1. Plain Node with no dependencies, so it runs before
// `npm ci` has built anything: `npm run demo` and `npm test` call it first, and `.ci/run`
// uses it too.
//
//   node scripts/setup-system.mjs [--for demo|test|ci] [--dry-run] [--installed FILE]
//
// --for       what to set up for: demo (RQ and redis-server), test (the test suite: also
//             MariaDB, PostgreSQL, openssl, chromium, faketime, and the two database
//             services), ci (test, plus a Redis on 127.0.0.1:6379 as .ci/run has always
//             started one). Default: test.
// --dry-run   change nothing: print what is missing and the commands that would fix it
//             (exit 1 when something is missing). PYRQ_SETUP=check does the same.
// --installed a file listing the installed packages, one per line, instead of asking
//             dpkg (the unit test fakes a machine this way; services are then not probed).
//
// PYRQ_SETUP=skip skips the whole check (a machine set up some other way).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

/** Every Debian package the demo or the tests need, and why. */
export const PACKAGES = {
  'python3-rq': 'RQ workers (/usr/bin/rq, /usr/bin/python3) run the jobs pyrq enqueues',
  'redis-server': 'each test file and the demo start a private redis-server on a free port',
  'mariadb-server': 'the MySQL/MariaDB source tests (127.0.0.1:3306, root without password)',
  postgresql: 'the PostgreSQL source tests (127.0.0.1:5432, user postgres, trust)',
  openssl: 'throwaway TLS certificates for the rediss:// tests',
  chromium: 'the web status page is tested in a real headless browser (/usr/bin/chromium)',
  faketime: 'a test runs a daemon under a shifted clock (faketime +3s)',
};

/** The services each purpose needs, by name (see SERVICES). */
export const NEEDS = {
  demo: { packages: ['python3-rq', 'redis-server'], services: [] },
  test: { packages: Object.keys(PACKAGES), services: ['mariadb', 'postgres'] },
  ci: { packages: Object.keys(PACKAGES), services: ['redis', 'mariadb', 'postgres'] },
};

function run(cmd, args, timeout = 10_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  return r.status === 0;
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(3000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += String(d);
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
  });
}

/** The newest installed PostgreSQL major version, e.g. "15". */
function pgVersion() {
  try {
    return (
      readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(a) - Number(b))
        .at(-1) ?? '15'
    );
  } catch {
    return '15';
  }
}

/**
 * The services, as `.ci/run` has always started them: a probe (is it up and reachable the
 * way the tests reach it?) and the shell commands that start it.
 */
export const SERVICES = {
  redis: {
    what: 'Redis on 127.0.0.1:6379',
    up: () => redisPing(6379),
    start: () => [
      'mkdir -p /var/lib/redis /var/log/redis',
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/pyrq-setup.log',
    ],
  },
  mariadb: {
    what: 'MariaDB on 127.0.0.1:3306 (root, no password)',
    skipIf: 'PYRQ_TEST_MYSQL_URL',
    up: async () => run('mariadb', ['-uroot', '-h127.0.0.1', '-N', '-e', 'SELECT 1']),
    // Debian's MariaDB lets root in through the Unix socket only (unix_socket auth); the
    // tests log in over TCP as root without a password, so that login is granted too.
    start: () => [
      'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
      'for i in $(seq 1 60); do mariadb -uroot -e "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done',
      `mariadb -uroot -e "CREATE USER IF NOT EXISTS root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION"`,
    ],
  },
  postgres: {
    what: 'PostgreSQL on 127.0.0.1:5432 (user postgres, trust on local connections)',
    skipIf: 'PYRQ_TEST_POSTGRES_URL',
    up: async () => run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-Atc', 'SELECT 1']),
    // The tests reach PostgreSQL as user postgres on 127.0.0.1 without a password (they
    // create and drop their own databases and roles; password checks run on a private
    // server they start), so the cluster trusts local connections. The old pg_hba.conf is
    // kept beside it as pg_hba.conf.pyrq-backup.
    start: () => {
      const v = pgVersion();
      const hba = `/etc/postgresql/${v}/main/pg_hba.conf`;
      return [
        `[ -d /etc/postgresql/${v}/main ] || pg_createcluster ${v} main`,
        `[ -f ${hba}.pyrq-backup ] || cp ${hba} ${hba}.pyrq-backup`,
        `printf 'local all all trust\\nhost all all 127.0.0.1/32 trust\\n' > ${hba}`,
        `pg_ctlcluster ${v} main restart || pg_ctlcluster ${v} main start`,
      ];
    },
  },
};

/** The packages `purpose` needs that are not in `installed`, in PACKAGES order. */
export function missingPackages(purpose, installed) {
  const have = new Set(installed);
  return NEEDS[purpose].packages.filter((p) => !have.has(p));
}

/** The one command that installs `missing`, as root would run it (DEBIAN_FRONTEND=noninteractive is set when this script runs it). */
export function installCommand(missing) {
  return `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
}

/** The packages dpkg says are installed. */
export function installedPackages() {
  const out = execFileSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.endsWith(' installed'))
    .map((l) => l.split(' ')[0].replace(/:.*$/, ''));
}

/**
 * What is missing for `purpose`: packages (from `installed`) and services (probed, unless
 * `probe` is false), with the commands that fix each.
 */
export async function plan(purpose, installed, { probe = true, env = process.env } = {}) {
  if (!(purpose in NEEDS)) throw new Error(`--for ${purpose}: expected one of ${Object.keys(NEEDS).join(', ')}`);
  const packages = missingPackages(purpose, installed);
  const services = [];
  if (probe) {
    for (const name of NEEDS[purpose].services) {
      const s = SERVICES[name];
      if (s.skipIf && env[s.skipIf]) continue;
      if (!(await s.up())) services.push(name);
    }
  }
  return { packages, services };
}

/** The report and the commands, as printed. */
export function describe(purpose, { packages, services }) {
  const lines = [];
  if (packages.length === 0 && services.length === 0) return [`pyrq set-up (${purpose}): nothing missing`];
  lines.push(`pyrq set-up (${purpose}): missing`);
  for (const p of packages) lines.push(`  package ${p}: ${PACKAGES[p]}`);
  for (const s of services) lines.push(`  service ${SERVICES[s].what}: not reachable`);
  return lines;
}

export function fixCommands({ packages, services }) {
  const cmds = [];
  if (packages.length > 0) cmds.push(installCommand(packages));
  for (const s of services) cmds.push(...SERVICES[s].start());
  return cmds;
}

function canChange() {
  if (process.getuid?.() === 0) return { ok: true, sudo: false };
  if (run('sudo', ['-n', 'true'], 5000)) return { ok: true, sudo: true };
  return { ok: false, sudo: false };
}

function sh(command, sudo) {
  console.log(`+ ${command}`);
  const script = `export DEBIAN_FRONTEND=noninteractive; ${command}`;
  if (sudo) execFileSync('sudo', ['-n', 'sh', '-c', script], { stdio: 'inherit' });
  else execFileSync('sh', ['-c', script], { stdio: 'inherit' });
}

async function waitUp(names, seconds = 60) {
  for (let i = 0; i < seconds; i++) {
    const down = [];
    for (const n of names) if (!(await SERVICES[n].up())) down.push(n);
    if (down.length === 0) return [];
    await new Promise((r) => setTimeout(r, 1000));
    if (i === seconds - 1) return down;
  }
  return names;
}

function parseArgs(argv) {
  const o = { purpose: 'test', dryRun: process.env.PYRQ_SETUP === 'check', installedFile: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--for') o.purpose = argv[++i];
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--installed') o.installedFile = argv[++i];
    else throw new Error(`unknown argument ${a}: expected --for demo|test|ci, --dry-run, --installed FILE`);
  }
  return o;
}

export async function main(argv) {
  if (process.env.PYRQ_SETUP === 'skip') return 0;
  const o = parseArgs(argv);
  const fake = o.installedFile !== undefined;
  if (!fake && !existsSync('/usr/bin/dpkg-query')) {
    console.log(
      `pyrq set-up: not a Debian/Ubuntu system (no dpkg-query); install yourself: ${NEEDS[o.purpose].packages.join(', ')}, and start: ${NEEDS[o.purpose].services.map((s) => SERVICES[s].what).join('; ') || 'nothing'}. PYRQ_SETUP=skip silences this check.`,
    );
    return 0;
  }
  const installed = fake
    ? readFileSync(o.installedFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : installedPackages();
  let missing = await plan(o.purpose, installed, { probe: !fake });
  for (const l of describe(o.purpose, missing)) console.log(l);
  if (missing.packages.length === 0 && missing.services.length === 0) return 0;

  const who = o.dryRun ? { ok: false, sudo: false } : canChange();
  if (o.dryRun || !who.ok) {
    console.log(o.dryRun ? 'Would run (as root):' : 'Run these as root (e.g. in sudo -i), then re-run:');
    for (const c of fixCommands(missing)) console.log(`  ${c}`);
    return 1;
  }
  if (missing.packages.length > 0) {
    try {
      sh(installCommand(missing.packages), who.sudo);
    } catch {
      // Stale package lists on a fresh machine: refresh once and retry.
      sh('apt-get update', who.sudo);
      sh(installCommand(missing.packages), who.sudo);
    }
  }
  // Installing a server package may start it; probe again before starting anything.
  missing = await plan(o.purpose, installedPackages(), { probe: true });
  for (const s of missing.services) for (const c of SERVICES[s].start()) sh(c, who.sudo);
  const down = await waitUp(missing.services);
  if (down.length > 0) {
    console.error(`pyrq set-up: still not reachable after 60 s: ${down.map((s) => SERVICES[s].what).join('; ')}`);
    return 1;
  }
  console.log(`pyrq set-up (${o.purpose}): done`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`pyrq set-up: ${err.message}`);
      process.exit(1);
    },
  );
}
