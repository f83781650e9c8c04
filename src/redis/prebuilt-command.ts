/**
 * The one place pyrq reaches into an ioredis internal: `Command.toWritable`, the method
 * that turns a command into the bytes written to the socket. Overriding it lets pyrq
 * hand ioredis a command it serialised itself, ahead of time (resp.ts): the dispatcher's
 * fire batches are built half a second before they are due, and sending one then costs
 * one buffer write instead of ioredis serialising ~24,000 arguments (16–20 ms).
 *
 * ioredis does not document `toWritable` as public API, so an upgrade may rename it or
 * stop calling it. test/integration/prebuilt-command.test.ts checks, against a real
 * redis-server, that the bytes built here are the bytes that reach the server; it fails
 * loudly when an ioredis upgrade breaks this.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

// Required, not imported: see connect.ts (CLI start-up).
const { Command } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');

/** An ioredis command whose bytes on the wire were built beforehand. */
class PrebuiltCommand extends Command {
  constructor(
    private readonly wire: Buffer,
    name: string,
    label: readonly string[],
  ) {
    // `label` is only what ioredis shows in its debug output; toWritable sends `wire`.
    super(name, [...label, '…prebuilt'], { replyEncoding: 'utf8' });
  }

  override toWritable(): Buffer {
    return this.wire;
  }
}

/**
 * Sends `wire` (one complete RESP command, from `encodeRespCommand`) on `redis` and
 * resolves with the reply (strings as utf8). `name` is the command the bytes hold (ioredis
 * treats some names specially, e.g. `quit`, so it must be the real one); `label` is shown
 * in ioredis's debug output. The command goes through ioredis's queues like any other: it
 * waits in the offline queue while disconnected, and its reply is matched in order.
 */
export function sendWire<T = unknown>(
  redis: Redis,
  wire: Buffer,
  name: string,
  label: readonly string[] = [],
): Promise<T> {
  return redis.sendCommand(new PrebuiltCommand(wire, name, label)) as Promise<T>;
}
