/**
 * The control socket protocol, pure (no sockets here).
 *
 * Native: one JSON object per line in, one JSON object per line out.
 *   request  {"op": "ping"|"status"|"upsert"|"delete"|"reconcile"|"reload"|"trigger"|"backfill",
 *             "id"?, "schedule"?, "schedules"?, "source"?, "reqId"?}
 *            ("backfill" takes "id", "from", "to" and optionally "dryRun", "limit", "yes")
 *            ("upsert" takes one "schedule", or "schedules": a list applied all or nothing;
 *             "pause"/"resume" take "id", "ids" or "all": true, and "pause" a "reason")
 *   reply    {"ok": true, "result": ...} | {"ok": false, "error": {"code", "message"}}
 *            (with the request's "reqId" echoed when it had one)
 *
 * BTU compatibility: the Frappe app BTU sends one JSON object *without* a newline,
 * {"request_type": "ping"|"create_task_schedule"|"cancel_task_schedule",
 *  "request_content": "<Task Schedule name>"}, waits, and reads up to 2048 bytes of
 * plain text. A complete JSON object with no newline is therefore taken as a message,
 * and BTU-shaped messages get BTU's plain-text replies.
 *
 * Requests are checked with zod schemas; a refused one is told its first problem.
 */
import { z } from 'zod';
import { parseJson } from '../canonical-json.js';
import { didYouMean, suggest } from '../model/suggest.js';

/** Largest message accepted (bytes, before its newline). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const OPS = [
  'ping',
  'status',
  'upsert',
  'delete',
  'reconcile',
  'reload',
  'trigger',
  'pause',
  'resume',
  'backfill',
] as const;
export type Op = (typeof OPS)[number];

export interface NativeRequest {
  kind: 'native';
  op: Op;
  id?: string;
  schedule?: unknown;
  /** `upsert` of several schedules at once: all or nothing. */
  schedules?: unknown[];
  /** `pause`/`resume`: several ids at once (or `all`), and the reason of a pause. */
  ids?: string[];
  all?: boolean;
  reason?: string;
  source?: string;
  reqId?: string | number;
  /** `backfill`: the range (ISO 8601), a dry run, the confirmation threshold and the confirmation. */
  from?: string;
  to?: string;
  dryRun?: boolean;
  limit?: number;
  yes?: boolean;
}

export interface BtuRequest {
  kind: 'btu';
  requestType: string;
  content: string | null;
}

export type Request = NativeRequest | BtuRequest;

export class ProtocolError extends Error {
  constructor(
    readonly code: 'BAD_JSON' | 'BAD_REQUEST' | 'UNKNOWN_OP' | 'TOO_LARGE' | 'TIMEOUT',
    message: string,
  ) {
    super(message);
  }
}

const OP_LIST = OPS.join(', ');

/**
 * BTU's message: an object with `request_type`. Other fields are ignored, as BTU's own
 * scheduler daemon ignores them.
 */
const btuRequestSchema = z.object({
  request_type: z.string({ error: 'request_type must be a string' }),
  request_content: z.string({ error: 'request_content must be a string' }).nullish(),
});

const isObject = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A native request. What each op needs is checked once the fields themselves are right. */
const nativeRequestSchema = z
  .strictObject({
    op: z.enum(OPS),
    id: z.string({ error: '"id" must be a string' }).optional(),
    schedule: z.unknown().optional(),
    schedules: z.array(z.unknown(), { error: '"schedules" must be a list of schedule objects' }).optional(),
    ids: z.array(z.string(), { error: '"ids" must be a list of schedule ids' }).optional(),
    all: z.boolean({ error: '"all" must be true or false' }).optional(),
    reason: z.string({ error: '"reason" must be a string' }).optional(),
    source: z.string({ error: '"source" must be a string' }).optional(),
    reqId: z.union([z.string(), z.number()], { error: '"reqId" must be a string or a number' }).optional(),
    from: z.string({ error: '"from" must be an ISO 8601 timestamp' }).optional(),
    to: z.string({ error: '"to" must be an ISO 8601 timestamp' }).optional(),
    dryRun: z.boolean({ error: '"dryRun" must be true or false' }).optional(),
    limit: z.number({ error: '"limit" must be a number' }).int().min(0).optional(),
    yes: z.boolean({ error: '"yes" must be true or false' }).optional(),
  })
  .superRefine((r, ctx) => {
    const need = (message: string) => ctx.addIssue({ code: 'custom', message });
    if ((r.op === 'delete' || r.op === 'trigger') && r.id === undefined) need(`"${r.op}" needs "id"`);
    if (r.op === 'backfill' && (r.id === undefined || r.from === undefined || r.to === undefined))
      need('"backfill" needs "id", "from" and "to"');
    if (r.op === 'upsert' && r.schedules === undefined && !isObject(r.schedule))
      need('"upsert" needs "schedule": a schedule object');
    if (
      r.op === 'upsert' &&
      r.schedules !== undefined &&
      (r.schedule !== undefined || r.schedules.length === 0 || !r.schedules.every(isObject))
    )
      need('"upsert" takes either "schedule" or "schedules": a non-empty list of schedule objects');
    if (
      (r.op === 'pause' || r.op === 'resume') &&
      r.id === undefined &&
      (r.ids === undefined || r.ids.length === 0) &&
      r.all !== true
    )
      need(`"${r.op}" needs "id", "ids" or "all": true`);
    if (r.op === 'reload' && r.source === undefined)
      need(
        '"reload" needs "source" (files, mysql, postgres, socket or the name of a [[sql]] entry) and optionally "id"',
      );
  });

/**
 * The one problem a refused request is told about, most basic first: the op, then
 * fields nobody knows, then each field in turn, then what the op needs.
 */
const RANK = ['op', 'unknown', 'id', 'source', 'reqId'];
const rank = (i: z.core.$ZodIssue): number => {
  const r = RANK.indexOf(i.code === 'unrecognized_keys' ? 'unknown' : String(i.path[0]));
  return r === -1 ? RANK.length : r;
};

function protocolError(issues: readonly z.core.$ZodIssue[], o: Record<string, unknown>): ProtocolError {
  const first = [...issues].sort((a, b) => rank(a) - rank(b))[0]!;
  if (first.path[0] === 'op') {
    if (typeof o.op !== 'string') return new ProtocolError('BAD_REQUEST', `missing "op" (one of ${OP_LIST})`);
    const hint = o.op.length <= 80 ? suggest(o.op, OPS) : undefined;
    return new ProtocolError(
      'UNKNOWN_OP',
      `unknown op ${JSON.stringify(o.op).slice(0, 80)} (${hint ? `did you mean ${JSON.stringify(hint)}? ` : ''}one of ${OP_LIST})`,
    );
  }
  if (first.code === 'unrecognized_keys') {
    const key = String(first.keys[0]);
    return new ProtocolError(
      'BAD_REQUEST',
      `unknown field ${JSON.stringify(key).slice(0, 80)}${key.length <= 80 ? didYouMean(key, ['op', 'id', 'schedule', 'source', 'reqId']) : ''}`,
    );
  }
  return new ProtocolError('BAD_REQUEST', first.message);
}

/** Parses one message's text into a request. Throws ProtocolError. */
export function parseRequest(text: string): Request {
  let v: unknown;
  try {
    v = parseJson(text);
  } catch (e) {
    throw new ProtocolError('BAD_JSON', `invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw new ProtocolError('BAD_REQUEST', 'a request must be a JSON object');
  const o = v as Record<string, unknown>;
  if ('request_type' in o) {
    const btu = btuRequestSchema.safeParse(o);
    if (!btu.success) throw new ProtocolError('BAD_REQUEST', btu.error.issues[0]!.message);
    return { kind: 'btu', requestType: btu.data.request_type, content: btu.data.request_content ?? null };
  }
  const r = nativeRequestSchema.safeParse(o);
  if (!r.success) throw protocolError(r.error.issues, o);
  const { op, id, schedule, schedules, ids, all, reason, source, reqId, from, to, dryRun, limit, yes } = r.data;
  return {
    kind: 'native',
    op,
    id,
    schedule,
    source,
    reqId,
    ...(schedules !== undefined ? { schedules } : {}),
    ...(ids !== undefined ? { ids } : {}),
    ...(all !== undefined ? { all } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(dryRun !== undefined ? { dryRun } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(yes !== undefined ? { yes } : {}),
  };
}

export function okReply(result: unknown, reqId?: string | number): Record<string, unknown> {
  return reqId === undefined ? { ok: true, result } : { ok: true, result, reqId };
}

export function errorReply(code: string, message: string, reqId?: string | number): Record<string, unknown> {
  const r: Record<string, unknown> = { ok: false, error: { code, message } };
  if (reqId !== undefined) r.reqId = reqId;
  return r;
}

/**
 * Splits a byte stream into messages: complete lines, or (BTU) one complete JSON object
 * without a newline. Bounded: a message over MAX_MESSAGE_BYTES is an error.
 */
export class MessageFramer {
  private buf = '';
  private bytes = 0;

  /** Feeds a chunk; returns the complete messages it finished. Throws ProtocolError (TOO_LARGE). */
  push(chunk: string): string[] {
    this.buf += chunk;
    this.bytes += Buffer.byteLength(chunk);
    const out: string[] = [];
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (Buffer.byteLength(line) > MAX_MESSAGE_BYTES)
        throw new ProtocolError('TOO_LARGE', `message over ${MAX_MESSAGE_BYTES} bytes`);
      if (line.trim() !== '') out.push(line);
    }
    this.bytes = Buffer.byteLength(this.buf);
    if (this.bytes > MAX_MESSAGE_BYTES) throw new ProtocolError('TOO_LARGE', `message over ${MAX_MESSAGE_BYTES} bytes`);
    // BTU: a whole JSON object with no newline after it.
    const t = this.buf.trim();
    if (t.startsWith('{') && t.endsWith('}') && isCompleteJson(t)) {
      out.push(t);
      this.buf = '';
      this.bytes = 0;
    }
    return out;
  }

  /** Bytes of an unfinished message held. */
  get buffered(): number {
    return this.bytes;
  }
}

function isCompleteJson(t: string): boolean {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}
