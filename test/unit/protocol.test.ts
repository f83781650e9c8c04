import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, MessageFramer, ProtocolError, parseRequest } from '../../src/control/protocol.js';

describe('message framing', () => {
  it('splits lines and keeps a partial line for later', () => {
    const f = new MessageFramer();
    expect(f.push('{"op":"ping"}\n{"op":"st')).toEqual(['{"op":"ping"}']);
    expect(f.buffered).toBeGreaterThan(0);
    expect(f.push('atus"}\n')).toEqual(['{"op":"status"}']);
    expect(f.buffered).toBe(0);
    expect(f.push('\n\r\n')).toEqual([]);
  });

  it('takes a complete JSON object without a newline as a message (BTU)', () => {
    const f = new MessageFramer();
    expect(f.push('{"request_type": "ping", ')).toEqual([]);
    expect(f.push('"request_content": null}')).toEqual(['{"request_type": "ping", "request_content": null}']);
  });

  it('does not mistake a brace inside a string for the end of the object', () => {
    const f = new MessageFramer();
    expect(f.push('{"op":"upsert","schedule":{"id":"x","description":"a}')).toEqual([]);
  });

  it('refuses a message over 1 MiB, with or without a newline', () => {
    const f = new MessageFramer();
    expect(() => f.push('x'.repeat(MAX_MESSAGE_BYTES + 1))).toThrow(ProtocolError);
    const g = new MessageFramer();
    expect(() => g.push(`${'y'.repeat(MAX_MESSAGE_BYTES + 1)}\n`)).toThrow(/over 1048576 bytes/);
  });
});

describe('request parsing', () => {
  it('native requests', () => {
    expect(parseRequest('{"op":"ping","reqId":3}')).toEqual({
      kind: 'native',
      op: 'ping',
      reqId: 3,
      id: undefined,
      schedule: undefined,
      source: undefined,
    });
    expect(parseRequest('{"op":"delete","id":"a"}')).toMatchObject({ op: 'delete', id: 'a' });
    expect(parseRequest('{"op":"reload","source":"mysql","id":"TS-1"}')).toMatchObject({
      op: 'reload',
      source: 'mysql',
      id: 'TS-1',
    });
    expect(parseRequest('{"op":"upsert","schedule":{"id":"a","args":[12345678901234567890]}}')).toMatchObject({
      schedule: { id: 'a', args: [12345678901234567890n] },
    });
  });

  it('BTU requests', () => {
    expect(parseRequest('{"request_type": "create_task_schedule", "request_content": "TS-000001"}')).toEqual({
      kind: 'btu',
      requestType: 'create_task_schedule',
      content: 'TS-000001',
    });
    expect(parseRequest('{"request_type": "ping", "request_content": null}')).toEqual({
      kind: 'btu',
      requestType: 'ping',
      content: null,
    });
  });

  it('clear errors for bad requests', () => {
    const code = (t: string) => {
      try {
        parseRequest(t);
      } catch (e) {
        return `${(e as ProtocolError).code}: ${(e as Error).message}`;
      }
      return 'ok';
    };
    expect(code('{')).toMatch(/^BAD_JSON: invalid JSON: line 1, column 2/);
    expect(code('"ping"')).toBe('BAD_REQUEST: a request must be a JSON object');
    expect(code('{"op":"nuke"}')).toBe(
      'UNKNOWN_OP: unknown op "nuke" (one of ping, status, upsert, delete, reconcile, reload, trigger, pause, resume, backfill)',
    );
    expect(code('{}')).toMatch(/^BAD_REQUEST: missing "op"/);
    expect(code('{"op":"delete"}')).toBe('BAD_REQUEST: "delete" needs "id"');
    expect(code('{"op":"upsert","schedule":[1]}')).toBe('BAD_REQUEST: "upsert" needs "schedule": a schedule object');
    expect(code('{"op":"upsert","schedules":[]}')).toBe(
      'BAD_REQUEST: "upsert" takes either "schedule" or "schedules": a non-empty list of schedule objects',
    );
    expect(code('{"op":"upsert","schedules":{"id":"x"}}')).toBe(
      'BAD_REQUEST: "schedules" must be a list of schedule objects',
    );
    expect(code('{"op":"pause"}')).toBe('BAD_REQUEST: "pause" needs "id", "ids" or "all": true');
    expect(code('{"op":"resume","ids":[]}')).toBe('BAD_REQUEST: "resume" needs "id", "ids" or "all": true');
    expect(code('{"op":"reload"}')).toMatch(/^BAD_REQUEST: "reload" needs "source"/);
    expect(code('{"op":"backfill","id":"x","from":"2026-03-29"}')).toBe(
      'BAD_REQUEST: "backfill" needs "id", "from" and "to"',
    );
    expect(code('{"op":"backfill","id":"x","from":"a","to":"b","limit":1.5}')).toMatch(/^BAD_REQUEST: .*limit/i);
    expect(code('{"op":"ping","x":1}')).toBe('BAD_REQUEST: unknown field "x"');
    expect(code('{"request_type": 5}')).toBe('BAD_REQUEST: request_type must be a string');
  });
});
