/**
 * The control socket protocol, pure (no sockets here).
 *
 * Native: one JSON object per line in, one JSON object per line out.
 *   request  {"op": "ping"|"status"|"upsert"|"delete"|"reconcile"|"reload"|"trigger",
 *             "id"?, "schedule"?, "source"?, "reqId"?}
 *   reply    {"ok": true, "result": ...} | {"ok": false, "error": {"code", "message"}}
 *            (with the request's "reqId" echoed when it had one)
 *
 * BTU compatibility: the Frappe app BTU sends one JSON object *without* a newline,
 * {"request_type": "ping"|"create_task_schedule"|"cancel_task_schedule",
 *  "request_content": "<Task Schedule name>"}, waits, and reads up to 2048 bytes of
 * plain text. A complete JSON object with no newline is therefore taken as a message,
 * and BTU-shaped messages get BTU's plain-text replies.
 */
import { parseJson } from '../canonical-json.js';

/** Largest message accepted (bytes, before its newline). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const OPS = ['ping', 'status', 'upsert', 'delete', 'reconcile', 'reload', 'trigger'] as const;
export type Op = (typeof OPS)[number];

export interface NativeRequest {
  kind: 'native';
  op: Op;
  id?: string;
  schedule?: unknown;
  source?: string;
  reqId?: string | number;
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

/** Parses one message's text into a request. Throws ProtocolError. */
export function parseRequest(text: string): Request {
  let v: unknown;
  try {
    v = parseJson(text);
  } catch (e) {
    throw new ProtocolError('BAD_JSON', `invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('BAD_REQUEST', 'a request must be a JSON object');
  const o = v as Record<string, unknown>;
  if ('request_type' in o) {
    if (typeof o.request_type !== 'string') throw new ProtocolError('BAD_REQUEST', 'request_type must be a string');
    const c = o.request_content;
    if (c !== undefined && c !== null && typeof c !== 'string') throw new ProtocolError('BAD_REQUEST', 'request_content must be a string');
    return { kind: 'btu', requestType: o.request_type, content: (c as string | null | undefined) ?? null };
  }
  if (typeof o.op !== 'string') throw new ProtocolError('BAD_REQUEST', 'missing "op" (one of ping, status, upsert, delete, reconcile, reload, trigger)');
  if (!(OPS as readonly string[]).includes(o.op)) throw new ProtocolError('UNKNOWN_OP', `unknown op ${JSON.stringify(o.op).slice(0, 80)} (one of ${OPS.join(', ')})`);
  const op = o.op as Op;
  const known = new Set(['op', 'id', 'schedule', 'source', 'reqId']);
  const extra = Object.keys(o).find((k) => !known.has(k));
  if (extra) throw new ProtocolError('BAD_REQUEST', `unknown field ${JSON.stringify(extra).slice(0, 80)}`);
  if (o.id !== undefined && typeof o.id !== 'string') throw new ProtocolError('BAD_REQUEST', '"id" must be a string');
  if (o.source !== undefined && typeof o.source !== 'string') throw new ProtocolError('BAD_REQUEST', '"source" must be a string');
  if (o.reqId !== undefined && typeof o.reqId !== 'string' && typeof o.reqId !== 'number') throw new ProtocolError('BAD_REQUEST', '"reqId" must be a string or a number');
  if ((op === 'delete' || op === 'trigger') && typeof o.id !== 'string') throw new ProtocolError('BAD_REQUEST', `"${op}" needs "id"`);
  if (op === 'upsert' && (o.schedule === null || typeof o.schedule !== 'object' || Array.isArray(o.schedule))) throw new ProtocolError('BAD_REQUEST', '"upsert" needs "schedule": a schedule object');
  if (op === 'reload' && typeof o.source !== 'string') throw new ProtocolError('BAD_REQUEST', '"reload" needs "source" (files, mysql, postgres or socket) and optionally "id"');
  return { kind: 'native', op, id: o.id as string | undefined, schedule: o.schedule, source: o.source as string | undefined, reqId: o.reqId as string | number | undefined };
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
      if (Buffer.byteLength(line) > MAX_MESSAGE_BYTES) throw new ProtocolError('TOO_LARGE', `message over ${MAX_MESSAGE_BYTES} bytes`);
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
