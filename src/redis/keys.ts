/**
 * Every Redis key pyrq reads or writes, its own and RQ's, is built here and nowhere
 * else (BullMQ's QueueKeys pattern). Lua scripts receive their keys as KEYS from these
 * builders; they never assemble key names themselves. The layout is a contract
 * (docs/redis-layout.md): change it only on purpose.
 */
import { SETTINGS } from '../config/settings.js';

/** pyrq's own keys, all under one configurable prefix (default `pyrq:`). */
export class Keys {
  /** HASH id -> "<spec hash>\t<source>\t<origin>": one HGETALL answers "what is applied?". */
  readonly index: string;
  /** ZSET id -> next fire time (epoch ms). Absent: disabled, finished or never fires again. */
  readonly next: string;
  /** Pub/sub channel: "the registry changed", so a sleeping dispatcher wakes early. */
  readonly events: string;
  /** STRING with TTL: the leader lease (value: holder id). */
  readonly leader: string;
  /**
   * Pub/sub channel: "the leader released the lease" (message: its holder id), published
   * by lease.lua on release, so a standby takes the free lease at once, not at its next poll.
   */
  readonly leaderReleased: string;
  /** HASH id -> schedule JSON as pushed over the socket: the socket source's own store. */
  readonly socketStore: string;
  /** HASH source name -> JSON source status (stale, errors, counts), written by the daemon for `status`. */
  readonly sourceStatus: string;
  /** HASH field -> value: facts about the running daemon(s) (leader, last reconcile). */
  readonly daemon: string;
  /** HASH id -> JSON {since, reason}: paused schedules (an operator's override, not a source edit). */
  readonly paused: string;
  /**
   * LIST of BTU RPC commands (the app's JSON, already acknowledged) that a standby daemon
   * took off `BtuKeys.commands`: LPUSHed by the standby, BRPOPed by the leader only.
   */
  readonly btuForward: string;
  /**
   * Pub/sub channel: "these sources' entries were written, by this process" (JSON,
   * src/registry/write-notice.ts), so the daemon that owns a source notices a foreign write.
   */
  readonly writes: string;
  /**
   * STRING: set once per Redis data set by the first daemon that meets it (JSON: by whom,
   * when). Missing: Redis restarted empty (or was flushed), so pushes and pauses are
   * restored from a daemon's state file (src/state/).
   */
  readonly stateMarker: string;
  /**
   * HASH id -> "<job id>\t<queue>\t<previous job id>\t<occurrence ms>": the occurrence an
   * overlap buffer-one schedule holds (its job written, status deferred) until its
   * previous job ends (fire-batch.lua writes it, release-held.lua pushes and removes it).
   */
  readonly held: string;
  /**
   * ZSET RQ job id -> when to look at it next (epoch ms): the jobs pyrq enqueued whose
   * outcome it has not learnt yet. Added by fire-batch.lua, drained by the outcome reader
   * (src/dispatch/outcome-reader.ts, record-outcomes.lua).
   */
  readonly outcomesPending: string;

  constructor(readonly prefix: string = SETTINGS['redis.prefix'].default) {
    this.index = `${prefix}index`;
    this.next = `${prefix}next`;
    this.events = `${prefix}events`;
    this.leader = `${prefix}leader`;
    this.leaderReleased = `${prefix}leader:released`;
    this.socketStore = `${prefix}source:socket`;
    this.sourceStatus = `${prefix}sources`;
    this.daemon = `${prefix}daemon`;
    this.paused = `${prefix}paused`;
    this.btuForward = `${prefix}btu:forward`;
    this.writes = `${prefix}writes`;
    this.stateMarker = `${prefix}state`;
    this.held = `${prefix}held`;
    this.outcomesPending = `${prefix}outcomes:pending`;
  }

  /** HASH: spec, hash, source, origin, createdAt, updatedAt and the dispatcher's state. */
  schedule(id: string): string {
    return `${this.prefix}schedule:${id}`;
  }

  /** LIST of run records (JSON), newest first: the newest `dispatch.historyLength` count (trimmed back to that once a fifth longer). */
  runs(id: string): string {
    return `${this.prefix}runs:${id}`;
  }
}

/**
 * The keyspace-notification channel of `key` in database `db` (Redis names it; published
 * only when the server's `notify-keyspace-events` has K and the key's event class).
 */
export function keyspaceChannel(db: number, key: string): string {
  return `__keyspace@${db}__:${key}`;
}

/** RQ's keys, as RQ 1.x and 2.x name them (rq/job.py, rq/queue.py). Not prefixed: RQ owns them. */
export const RqKeys = {
  /** SET of queue keys that workers and `rq info` discover queues from. */
  queues: 'rq:queues',
  queue: (name: string): string => `rq:queue:${name}`,
  job: (id: string): string => `rq:job:${id}`,
  /** ZSET of a queue's cancelled jobs (RQ's CanceledJobRegistry, score: when). */
  canceled: (queue: string): string => `rq:canceled:${queue}`,
  /** Pub/sub channel of one worker's commands (rq/command.py; `stop-job` stops the job it runs). */
  workerCommands: (worker: string): string => `rq:pubsub:${worker}`,
  /** STREAM of a job's results (RQ >= 1.12 on Redis >= 5: `rq/results.py`; the exception text of a failure lives here). */
  results: (id: string): string => `rq:results:${id}`,
  /** SET of every registered worker's key (`rq:worker:<name>`, a HASH with `queues`, expiring without heartbeats). */
  workers: 'rq:workers',
  /** SET of the keys of the workers that listen on one queue (RQ 1.x rq/worker_registration.py). */
  workersOf: (queue: string): string => `rq:workers:${queue}`,
} as const;

/**
 * The BTU Frappe app's keys (btu/btu_api/scheduler.py, `SchedulerAPI`). Not prefixed: the
 * app names them, in the site's `redis_queue`.
 */
export const BtuKeys = {
  /** LIST the app LPUSHes its commands on (JSON: request_type, request_content, response_key). */
  commands: 'btu:scheduler:commands',
  /** The app's reply keys are `btu:scheduler:rpc:<uuid4 hex>`; pyrq only LPUSHes to the key a command names. */
  responsePrefix: 'btu:scheduler:rpc:',
} as const;
