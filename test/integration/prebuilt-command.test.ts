/**
 * pyrq overrides an ioredis internal (`Command.toWritable`, src/redis/prebuilt-command.ts)
 * to write commands it serialised ahead of time. ioredis does not promise that method,
 * so these checks, against a real redis-server, fail loudly when an upgrade changes it:
 * the bytes pyrq built must be exactly what the server receives, replies must come back
 * to the right caller, and a command sent while disconnected must go out on connect.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWire } from '../../src/redis/prebuilt-command.js';
import { encodeRespCommand, patchRespArg } from '../../src/redis/resp.js';
import { eventually } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

let server: PrivateRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());

describe('prebuilt commands (ioredis Command.toWritable)', () => {
  it('ioredis still has the method pyrq overrides', async () => {
    const { Command } = await import('ioredis');
    expect(
      typeof (Command.prototype as unknown as { toWritable?: unknown }).toWritable,
      'ioredis Command.prototype.toWritable is gone: src/redis/prebuilt-command.ts must be rewritten',
    ).toBe('function');
  });

  it('the server receives exactly the prebuilt bytes, not what ioredis would build from the label', async () => {
    const monitor = await server.client().monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    try {
      const value = 'ünïcode\tand\r\nbreaks';
      // The label differs from the bytes: if ioredis serialised the label instead, the server would see it.
      await expect(
        sendWire(redis, encodeRespCommand(['SET', 'probe', value]).wire, 'set', ['label-not-sent']),
      ).resolves.toBe('OK');
      expect(await redis.get('probe')).toBe(value);
      await expect(
        sendWire(redis, encodeRespCommand(['SET', 'probe2', 'plain value']).wire, 'set', ['label-not-sent']),
      ).resolves.toBe('OK');
      await redis.get('probe2');
      await eventually(
        async () => seen.some((a) => a[0]?.toLowerCase() === 'get' && a[1] === 'probe2'),
        'MONITOR shows the last GET',
      );
      // MONITOR shows what the server parsed (non-printable bytes escaped).
      expect(seen.filter((a) => a[0]?.toLowerCase() === 'set')).toEqual([
        ['SET', 'probe', '\\xc3\\xbcn\\xc3\\xafcode\\tand\\r\\nbreaks'],
        ['SET', 'probe2', 'plain value'],
      ]);
      expect(seen.flat().some((a) => a.includes('label-not-sent') || a.includes('prebuilt'))).toBe(false);
    } finally {
      monitor.disconnect();
    }
  });

  it('sends a patched buffer as patched, and an EVALSHA built by pyrq runs its script', async () => {
    const sha = (await redis.script('LOAD', 'return ARGV[1] .. ":" .. KEYS[1]')) as string;
    const cmd = encodeRespCommand(['EVALSHA', sha, 1, 'k', '0000']);
    patchRespArg(cmd, 4, '1234');
    await expect(sendWire(redis, cmd.wire, 'evalsha', [sha])).resolves.toBe('1234:k');
  });

  it('replies reach their own callers when prebuilt and ordinary commands are pipelined together', async () => {
    const calls: Promise<unknown>[] = [];
    const want: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) {
        calls.push(redis.echo(`plain-${i}`));
      } else {
        calls.push(sendWire(redis, encodeRespCommand(['ECHO', `pre-${i}`]).wire, 'echo'));
      }
      want.push(i % 3 === 0 ? `plain-${i}` : `pre-${i}`);
    }
    expect(await Promise.all(calls)).toEqual(want);
  });

  it('a server error reply rejects the prebuilt call', async () => {
    await expect(sendWire(redis, encodeRespCommand(['EVALSHA', 'f'.repeat(40), 0]).wire, 'evalsha')).rejects.toThrow(
      /NOSCRIPT/,
    );
  });

  it('a command sent before the connection is up waits in the offline queue and goes out on connect', async () => {
    const lazy = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
    lazy.on('error', () => {});
    try {
      const sent = sendWire(lazy, encodeRespCommand(['ECHO', 'queued']).wire, 'echo');
      expect(lazy.status).not.toBe('ready'); // so the command went to the offline queue
      await expect(sent).resolves.toBe('queued');
    } finally {
      lazy.disconnect();
    }
  });
});
