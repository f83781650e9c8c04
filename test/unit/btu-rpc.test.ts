import { describe, expect, it } from 'vitest';
import { btuAck, parseBtuRpcCommand } from '../../reconcilers/btu-rpc-listener.js';

describe('BTU RPC commands', () => {
  it("reads the app's command, with or without a response key", () => {
    expect(
      parseBtuRpcCommand(
        '{"request_type": "create_task_schedule", "request_content": "TS-1", "response_key": "btu:scheduler:rpc:ab"}',
      ),
    ).toEqual({ requestType: 'create_task_schedule', content: 'TS-1', responseKey: 'btu:scheduler:rpc:ab' });
    expect(parseBtuRpcCommand('{"request_type": "ping", "request_content": null, "response_key": null}')).toEqual({
      requestType: 'ping',
      content: null,
      responseKey: null,
    });
    expect(parseBtuRpcCommand('{"request_type": "ping"}')).toEqual({
      requestType: 'ping',
      content: null,
      responseKey: null,
    });
  });

  it('says why a command is malformed', () => {
    expect(parseBtuRpcCommand('nope')).toMatch(/^not JSON/);
    expect(parseBtuRpcCommand('"ping"')).toBe('not a JSON object');
    expect(parseBtuRpcCommand('{"request_content": "x"}')).toBe('request_type must be a string');
    expect(parseBtuRpcCommand('{"request_type": "ping", "request_content": 3}')).toBe(
      'request_content must be a string or null',
    );
    expect(parseBtuRpcCommand('{"request_type": "ping", "response_key": 7}')).toBe(
      'response_key must be a string or null',
    );
    expect(parseBtuRpcCommand('{"request_type": "ping", "response_key": ""}')).toEqual({
      requestType: 'ping',
      content: null,
      responseKey: null,
    });
  });

  it("acknowledges as Python's json.dumps writes it", () => {
    expect(btuAck('ping')).toBe(
      '{"status": "ok", "request_type": "ping", "message": "Command received by BTU Scheduler."}',
    );
    expect(btuAck('é"')).toBe(
      '{"status": "ok", "request_type": "\\u00e9\\"", "message": "Command received by BTU Scheduler."}',
    );
  });
});
