/**
 * BTU's Redis RPC channel: the current BTU app (`btu/btu_api/scheduler.py`, `SchedulerAPI`)
 * no longer writes to a Unix socket; it LPUSHes a JSON command onto
 * `btu:scheduler:commands` in the site's `redis_queue` and, unless it runs in "webserver"
 * mode (`response_key: null`), waits 5 s on `BLPOP <response_key>` for an acknowledgement.
 *
 * Each daemon runs one listener on a Redis connection of its own (BRPOP blocks it, so it
 * never delays a fire, a reconcile or a socket request):
 *
 * - it takes commands oldest first (`BRPOP`, since the app LPUSHes), and acknowledges each
 *   at once, before acting, exactly as BTU's own daemons do: `LPUSH response_key
 *   {"status": "ok", "request_type": ..., "message": "Command received by BTU Scheduler."}`
 *   and `EXPIRE response_key 60`, only when a `response_key` is given;
 * - the leader then acts on it as on the socket's BTU message (re-read that Task Schedule
 *   row and reconcile it now), one command after another, in order;
 * - a standby that took a command (every daemon listens, so the app gets its answer even
 *   while the leader is being replaced) forwards it, already acknowledged, onto the
 *   leader-owned list `<prefix>btu:forward`. Only the leader pops that list, so a forwarded
 *   command waits there, in order, until there is a leader: it is never lost with a
 *   standby, and never acted on by a daemon whose SQL source the leader's would overwrite.
 *
 * A malformed command (not JSON, not an object, `request_type` not a string,
 * `response_key` neither a string nor null) is logged and dropped; an empty `response_key`
 * is taken as none, as BTU's daemon takes it. Redis errors are logged
 * and retried with a capped backoff; the listener stops only with the daemon.
 */
import type { Redis } from 'ioredis';
import type { BtuRequest } from '../src/control/protocol.js';
import type { Logger } from '../src/log.js';
import { BtuKeys, type Keys } from '../src/redis/keys.js';

/** One command as the app sends it. */
export interface BtuRpcCommand {
  requestType: string;
  content: string | null;
  /** Where the app waits for the acknowledgement; null: the app waits for nothing. */
  responseKey: string | null;
}

/** How long the app's reply key lives (BTU's daemons: `EXPIRE response_key 60`). */
export const BTU_ACK_TTL_SECONDS = 60;

/** Parses one list element; a string says why it is malformed. Pure. */
export function parseBtuRpcCommand(raw: string): BtuRpcCommand | string {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const { request_type: rt, request_content: rc, response_key: rk } = o as Record<string, unknown>;
  if (typeof rt !== 'string') return 'request_type must be a string';
  if (rc !== undefined && rc !== null && typeof rc !== 'string') return 'request_content must be a string or null';
  if (rk !== undefined && rk !== null && typeof rk !== 'string') return 'response_key must be a string or null';
  // An empty key is no key, as for BTU's daemon (`if response_key:`): acted on, not acknowledged.
  return { requestType: rt, content: rc ?? null, responseKey: rk || null };
}

/**
 * The acknowledgement, byte for byte as Python's `json.dumps` writes it (", " and ": "
 * separators, non-ASCII escaped), which is what BTU's Python daemon sends. Pure.
 */
export function btuAck(requestType: string): string {
  return `{"status": "ok", "request_type": ${pyJsonString(requestType)}, "message": "Command received by BTU Scheduler."}`;
}

function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface BtuRpcListenerOptions {
  /** A connection of the listener's own: BRPOP blocks it. Disconnected by `stop()`. */
  blocking: Redis;
  /** A shared connection for the acknowledgements and forwarding (never blocked). */
  redis: Redis;
  keys: Keys;
  isLeader(): boolean;
  /** Acts on a command (the daemon's BTU handler); resolves with BTU's text reply, which is logged. */
  act(req: BtuRequest): Promise<string>;
  logger: Logger;
  /** How long one BRPOP waits (s) before looking again at leadership and stop. Default 1. */
  blockSeconds?: number;
}

export class BtuRpcListener {
  private stopped = false;
  private running?: Promise<void>;
  /** The leader's actions, chained so that commands are acted on in the order they came. */
  private acting: Promise<void> = Promise.resolve();

  constructor(private readonly o: BtuRpcListenerOptions) {}

  start(): void {
    this.running ??= this.loop();
    this.o.logger.info({ list: BtuKeys.commands }, 'listening for BTU commands in Redis');
  }

  /** Ends the loop (the blocked BRPOP is cut by disconnecting its connection) and waits for actions in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.blocking.disconnect();
    await this.running;
    await this.acting;
  }

  private async loop(): Promise<void> {
    const { blocking, keys, logger } = this.o;
    let failures = 0;
    while (!this.stopped) {
      // Commands fail at once while the connection is down (no offline queue): wait for it
      // quietly (at start, or during an outage the main connection already logs).
      if (blocking.status !== 'ready') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, 1_000);
          function done(): void {
            clearTimeout(t);
            blocking.off('ready', done);
            resolve();
          }
          blocking.once('ready', done);
        });
        if ((blocking.status as string) !== 'ready') continue;
      }
      const leader = this.o.isLeader();
      // The leader drains what standbys forwarded first: those commands are older.
      const lists = leader ? [keys.btuForward, BtuKeys.commands] : [BtuKeys.commands];
      let popped: [string, string] | null;
      try {
        popped = await blocking.brpop(...lists, this.o.blockSeconds ?? 1);
        failures = 0;
      } catch (e) {
        if (this.stopped) break;
        failures++;
        if (failures === 1)
          logger.warn({ err: { message: (e as Error).message } }, 'cannot read BTU commands from Redis; retrying');
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** failures, 5_000)));
        continue;
      }
      if (popped) await this.received(popped[0], popped[1]);
    }
  }

  private async received(list: string, raw: string): Promise<void> {
    const { redis, keys, logger } = this.o;
    const cmd = parseBtuRpcCommand(raw);
    if (typeof cmd === 'string') {
      logger.warn(
        { list, command: raw.length > 500 ? `${raw.slice(0, 500)}...` : raw, reason: cmd },
        'dropped a malformed BTU command',
      );
      return;
    }
    const forwarded = list === keys.btuForward;
    try {
      // Acknowledged on receipt, before acting (a forwarded command was acknowledged by the standby).
      if (!forwarded && cmd.responseKey !== null) {
        await redis
          .multi()
          .lpush(cmd.responseKey, btuAck(cmd.requestType))
          .expire(cmd.responseKey, BTU_ACK_TTL_SECONDS)
          .exec();
      }
      if (!this.o.isLeader()) {
        await redis.lpush(keys.btuForward, raw);
        logger.debug({ requestType: cmd.requestType, content: cmd.content }, 'BTU command forwarded to the leader');
        return;
      }
    } catch (e) {
      logger.warn(
        { err: { message: (e as Error).message }, requestType: cmd.requestType, content: cmd.content },
        'cannot acknowledge or forward a BTU command',
      );
      return;
    }
    const req: BtuRequest = { kind: 'btu', requestType: cmd.requestType, content: cmd.content };
    this.acting = this.acting.then(async () => {
      try {
        const reply = await this.o.act(req);
        // BTU's replies that start with "Error" say the command could not be carried out.
        const level = reply.startsWith('Error') ? 'warn' : 'info';
        logger[level](
          { requestType: cmd.requestType, content: cmd.content, reply, via: forwarded ? 'forwarded' : 'redis' },
          'BTU command',
        );
      } catch (e) {
        logger.warn(
          { err: { message: (e as Error).message }, requestType: cmd.requestType, content: cmd.content },
          'BTU command failed',
        );
      }
    });
  }
}
