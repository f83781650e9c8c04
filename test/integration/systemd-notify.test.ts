import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Type=notify without native code: the daemon runs the real systemd-notify against a
// stand-in notify socket (a Python datagram listener), as systemd would see it.
let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let listener: ChildProcess | undefined;
let daemon: DaemonProcess | undefined;

beforeEach(async () => {
  server = await startRedis();
  dir = tmpDir();
});

afterEach(async () => {
  await daemon?.stop('SIGKILL');
  listener?.kill('SIGKILL');
  await server.close();
  dir.cleanup();
});

describe('systemd notify', () => {
  it('READY=1 after the first reconcile, watchdog pings, STOPPING=1 on SIGTERM', async () => {
    const schedules = join(dir.path, 'schedules');
    mkdirSync(schedules);
    writeFileSync(join(schedules, 'a.json'), JSON.stringify([{ id: 'a', function: 'app.tasks.run', every: 60 }]));
    const notify = join(dir.path, 'notify.sock');
    const messages: string[] = [];
    listener = spawn('python3', [join(ROOT, 'test', 'helpers', 'notify-socket.py'), notify], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    listener.stdout!.setEncoding('utf8');
    listener.stdout!.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      messages.push(...lines);
    });
    await eventually(async () => messages.includes('listening'), 'the stand-in notify socket listens', 10_000);

    daemon = await startDaemon(['--dir', schedules, '--redis-url', server.url], {
      socket: join(dir.path, 'd.sock'),
      env: { NOTIFY_SOCKET: notify, WATCHDOG_USEC: '1000000' },
    });
    const ready = await eventually(async () => messages.find((m) => m.includes('READY=1')), 'READY=1', 15_000);
    expect(ready).toContain('STATUS=leader: reconciled, firing');
    // Ready only once the first reconcile is done. READY=1 and the daemon's log reach this
    // test by two pipes, so their arrival order proves nothing (READY once came first);
    // the daemon's own log does: 'systemd watchdog pings on' is written in the same tick
    // READY=1 is sent, after the first reconcile's line.
    const d = daemon;
    await eventually(
      async () => d.logs.some((l) => l.msg === 'systemd watchdog pings on'),
      "the daemon's log line written as READY=1 is sent",
      10_000,
    );
    const at = (msg: string) => d.logs.findIndex((l) => l.msg === msg);
    expect(at('reconcile'), 'the first reconcile is logged before READY=1 is sent').toBeGreaterThanOrEqual(0);
    expect(at('reconcile')).toBeLessThan(at('systemd watchdog pings on'));
    await eventually(
      async () => messages.filter((m) => m === 'WATCHDOG=1').length >= 2,
      'two watchdog pings (every 500 ms for WATCHDOG_USEC=1 s)',
      10_000,
    );
    expect(await daemon.stop('SIGTERM')).toBe(0);
    await eventually(async () => messages.includes('STOPPING=1'), 'STOPPING=1', 5_000);
    expect(daemon.logs.some((l) => l.msg === 'systemd-notify failed')).toBe(false);
  });
});
