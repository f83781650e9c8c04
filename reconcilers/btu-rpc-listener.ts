/**
 * BTU's Redis RPC channel: the current BTU app (`btu/btu_api/scheduler.py`, `SchedulerAPI`)
 * no longer writes to a Unix socket; it LPUSHes a JSON command onto
 * `btu:scheduler:commands` in the site's `redis_queue` and, unless it runs in "webserver"
 * mode (`response_key: null`), waits 5 s on `BLPOP <response_key>` for an acknowledgement.
 *
 * Each daemon runs one listener on a Redis connection of its own (BRPOP blocks it, so it
 * never delays a fire, a reconcile or a socket request):
 *
 * - it takes commands oldest first (`BRPOP`, since the app LPUSHes), and only while fewer
 *   than `BTU_MAX_IN_FLIGHT` taken commands wait to be acted on: the backlog stays in the
 *   Redis list, not in the daemon's memory, and a stop has little to finish;
 * - it acknowledges each at once, before acting, exactly as BTU's own daemons do: `LPUSH
 *   response_key {"status": "ok", "request_type": ..., "message": "Command received by BTU
 *   Scheduler."}` and `EXPIRE response_key 60`, only when a `response_key` is given, in one
 *   script (`btu-ack.lua`) that never writes onto a key of another type;
 * - it writes only BTU's own reply keys: a `response_key` outside `btu:scheduler:rpc:` (the
 *   prefix of the app's `uuid4` keys) is not from the app; such a command is refused
 *   (neither answered nor acted on) with a log line, so a command cannot make the daemon
 *   push into or expire the registry, RQ's queues or anything else;
 * - a command over `BTU_MAX_COMMAND_CHARS`, or whose `request_content` (a Task Schedule
 *   name, at most 140 characters in BTU) is over `BTU_MAX_CONTENT_CHARS`, is refused with
 *   a log line; user data in log lines is a bounded prefix (`logExcerpt`);
 * - the leader then acts on it as on the socket's BTU message (re-read that Task Schedule
 *   row and reconcile it now), one command after another, in order;
 * - a standby that took a command (every daemon listens, so the app gets its answer even
 *   while the leader is being replaced) forwards it, already acknowledged, onto the
 *   leader-owned list `<prefix>btu:forward`. Only the leader pops that list, so a forwarded
 *   command waits there, in order, until there is a leader: it is never lost with a
 *   standby, and never acted on by a daemon whose SQL source the leader's would overwrite;
 * - on stop, the command being acted on is finished; the ones taken but not started are
 *   put back, oldest first, on `<prefix>btu:forward` (they are acknowledged already) and
 *   counted in a log line: nothing taken is dropped silently. The same when the daemon
 *   stops leading while commands wait.
 *
 * A malformed command (not JSON, not an object, `request_type` not a string,
 * `response_key` neither a string nor null) is logged and dropped; an empty `response_key`
 * is taken as none, as BTU's daemon takes it. Redis errors are logged
 * and retried with a capped backoff; the listener stops only with the daemon.
 */
import type { Redis } from 'ioredis';
import type { BtuRequest } from '../src/control/protocol.js';
import type { Logger } from '../src/log.js';
import { logExcerpt } from '../src/log-excerpt.js';
import { writeBtuAck } from '../src/redis/commands/btu-ack.js';
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

/**
 * Taken commands not yet acted on, at most: the listener takes no more until one is done.
 * Small: acting on one is a SQL read and a scoped reconcile (~10 ms), and a stop finishes
 * or returns these.
 */
export const BTU_MAX_IN_FLIGHT = 16;

/** A list element longer than this (characters) is refused unread: the app's are ~150. */
export const BTU_MAX_COMMAND_CHARS = 4096;

/**
 * `request_content` longer than this (characters) is refused. BTU's Task Schedule names
 * are at most 140 characters; 1 KiB leaves room for any name the app can send.
 */
export const BTU_MAX_CONTENT_CHARS = 1024;

/**
 * Why a well-formed command is refused (null: it is not). A refused command is neither
 * answered nor acted on. Pure.
 */
export function btuRpcRefusal(cmd: BtuRpcCommand): string | null {
  if (cmd.responseKey !== null) {
    const p = BtuKeys.responsePrefix;
    if (!cmd.responseKey.startsWith(p) || cmd.responseKey.length === p.length)
      return `response_key is not one of BTU's reply keys (${p}<id>): no reply is written outside that prefix`;
  }
  if (cmd.content !== null && cmd.content.length > BTU_MAX_CONTENT_CHARS)
    return `request_content is ${cmd.content.length} characters; at most ${BTU_MAX_CONTENT_CHARS} are accepted (BTU names are at most 140)`;
  return null;
}

/** Parses one list element; a string says why it is malformed. Pure. */
export function parseBtuRpcCommand(raw: string): BtuRpcCommand | string {
  if (raw.length > BTU_MAX_COMMAND_CHARS)
    return `${raw.length} characters long; a command has at most ${BTU_MAX_COMMAND_CHARS}`;
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
  /** Taken commands not yet acted on, at most. Default `BTU_MAX_IN_FLIGHT`. */
  maxInFlight?: number;
}

/** A command taken by the leader, acknowledged, waiting to be acted on. */
interface Taken {
  raw: string;
  cmd: BtuRpcCommand;
  forwarded: boolean;
}

export class BtuRpcListener {
  private stopped = false;
  private running?: Promise<void>;
  /** Taken by the leader, not yet acted on, oldest first; at most `maxInFlight` with `busy`. */
  private readonly taken: Taken[] = [];
  /** Acting on one now: at most one at a time, so commands are acted on in the order they came. */
  private busy = false;
  private working: Promise<void> = Promise.resolve();
  /** Wakes the intake loop when a taken command is done. */
  private slotFreed?: () => void;
  private readonly maxInFlight: number;

  constructor(private readonly o: BtuRpcListenerOptions) {
    this.maxInFlight = o.maxInFlight ?? BTU_MAX_IN_FLIGHT;
  }

  start(): void {
    this.running ??= this.loop();
    this.o.logger.info({ list: BtuKeys.commands }, 'listening for BTU commands in Redis');
  }

  /**
   * Ends the loop (the blocked BRPOP is cut by disconnecting its connection), finishes the
   * action in flight, and puts the commands taken but not started back on the leader's
   * list (they are acknowledged already), counting them in the log.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.slotFreed?.();
    this.o.blocking.disconnect();
    await this.running;
    await this.working;
    await this.handBack(this.taken.splice(0), 'BTU commands taken but not acted on were put back for the next leader');
  }

  /**
   * Puts taken commands (acknowledged already) back on the leader's list, oldest first,
   * with a log line counting them; if Redis refuses, an error line counts them as lost.
   */
  private async handBack(left: Taken[], msg: string): Promise<void> {
    if (left.length === 0) return;
    const { redis, keys, logger } = this.o;
    try {
      // The leader BRPOPs the list (oldest at the right): RPUSH newest first, so the oldest ends up rightmost.
      await redis.rpush(keys.btuForward, ...left.map((t) => t.raw).reverse());
      logger.info({ count: left.length, list: keys.btuForward }, msg);
    } catch (e) {
      logger.error(
        { count: left.length, err: { message: (e as Error).message } },
        'BTU commands taken but not acted on were lost: they could not be put back in Redis',
      );
    }
  }

  /** Taken commands not yet finished. */
  get inFlight(): number {
    return this.taken.length + (this.busy ? 1 : 0);
  }

  private async loop(): Promise<void> {
    const { blocking, keys, logger } = this.o;
    let failures = 0;
    while (!this.stopped) {
      // Bounded intake: the backlog waits in Redis, where a stop loses nothing.
      if (this.inFlight >= this.maxInFlight) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        this.slotFreed = undefined;
        continue;
      }
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
      logger.warn({ list, command: logExcerpt(raw), reason: cmd }, 'dropped a malformed BTU command');
      return;
    }
    const about = {
      requestType: logExcerpt(cmd.requestType),
      content: logExcerpt(cmd.content),
      responseKey: logExcerpt(cmd.responseKey),
    };
    const refusal = btuRpcRefusal(cmd);
    if (refusal !== null) {
      logger.warn({ list, ...about, reason: refusal }, 'refused a BTU command');
      return;
    }
    const forwarded = list === keys.btuForward;
    try {
      // Acknowledged on receipt, before acting (a forwarded command was acknowledged by the standby).
      if (!forwarded && cmd.responseKey !== null) {
        const written = await writeBtuAck(redis, cmd.responseKey, btuAck(cmd.requestType), BTU_ACK_TTL_SECONDS);
        if (written !== 'written')
          logger.warn({ ...about }, 'BTU command not acknowledged: its response_key holds another type of value');
      }
      if (!this.o.isLeader()) {
        const n = await redis.lpush(keys.btuForward, raw);
        if (!(n >= 1)) throw new Error(`LPUSH ${keys.btuForward} answered ${n}`);
        logger.debug({ requestType: about.requestType, content: about.content }, 'BTU command forwarded to the leader');
        return;
      }
    } catch (e) {
      logger.warn(
        { err: { message: (e as Error).message }, requestType: about.requestType, content: about.content },
        'cannot acknowledge or forward a BTU command',
      );
      return;
    }
    this.taken.push({ raw, cmd, forwarded });
    if (!this.busy) this.working = this.work();
  }

  /** Acts on taken commands one after another, oldest first, until none is left or the listener stops. */
  private async work(): Promise<void> {
    this.busy = true;
    try {
      for (let t = this.taken.shift(); t; t = this.stopped ? undefined : this.taken.shift()) {
        if (!this.o.isLeader()) {
          // Leadership lost while these waited: the new leader acts on them, in order.
          await this.handBack([t, ...this.taken.splice(0)], 'no longer leader: BTU commands handed to the next leader');
          break;
        }
        await this.act(t);
        this.slotFreed?.();
      }
    } finally {
      this.busy = false;
      this.slotFreed?.();
    }
  }

  private async act({ cmd, forwarded }: Taken): Promise<void> {
    const { logger } = this.o;
    const requestType = logExcerpt(cmd.requestType);
    const content = logExcerpt(cmd.content);
    const req: BtuRequest = { kind: 'btu', requestType: cmd.requestType, content: cmd.content };
    try {
      const reply = await this.o.act(req);
      // BTU's replies that start with "Error" say the command could not be carried out.
      const level = reply.startsWith('Error') ? 'warn' : 'info';
      logger[level](
        { requestType, content, reply: logExcerpt(reply), via: forwarded ? 'forwarded' : 'redis' },
        'BTU command',
      );
    } catch (e) {
      logger.warn({ err: { message: logExcerpt((e as Error).message) }, requestType, content }, 'BTU command failed');
    }
  }
}
