import { describe, expect, it } from 'vitest';
import {
  BTU_MAX_COMMAND_CHARS,
  BTU_MAX_CONTENT_CHARS,
  btuRpcRefusal,
  parseBtuRpcCommand,
} from '../../reconcilers/btu-rpc-listener.js';
import { LOG_EXCERPT_CHARS, logExcerpt } from '../../src/log-excerpt.js';

const command = (responseKey: string | null, content: string | null = 'TS-000001') => ({
  requestType: 'create_task_schedule',
  content,
  responseKey,
});

describe('BTU RPC refusals', () => {
  it("answers only BTU's own reply keys", () => {
    expect(btuRpcRefusal(command('btu:scheduler:rpc:0123abcd'))).toBeNull();
    expect(btuRpcRefusal(command(null))).toBeNull();
    for (const k of [
      'pyrq:index',
      'pyrq:paused',
      'rq:queue:default',
      'btu:scheduler:commands',
      'btu:scheduler:rpc:',
      'BTU:SCHEDULER:RPC:x',
      ' btu:scheduler:rpc:x',
    ])
      expect(btuRpcRefusal(command(k)), k).toMatch(/^response_key is not one of BTU's reply keys/);
  });

  it('refuses oversized content and commands', () => {
    expect(btuRpcRefusal(command(null, 'x'.repeat(BTU_MAX_CONTENT_CHARS)))).toBeNull();
    expect(btuRpcRefusal(command(null, 'x'.repeat(BTU_MAX_CONTENT_CHARS + 1)))).toBe(
      `request_content is ${BTU_MAX_CONTENT_CHARS + 1} characters; at most ${BTU_MAX_CONTENT_CHARS} are accepted (BTU names are at most 140)`,
    );
    expect(parseBtuRpcCommand(`{"request_type": "ping", "x": "${'y'.repeat(BTU_MAX_COMMAND_CHARS)}"}`)).toMatch(
      /^\d+ characters long; a command has at most 4096$/,
    );
  });

  it('logs a bounded prefix of user data', () => {
    expect(logExcerpt('short')).toBe('short');
    expect(logExcerpt(null)).toBeNull();
    const long = 'z'.repeat(10_000);
    expect(logExcerpt(long)).toBe(`${'z'.repeat(LOG_EXCERPT_CHARS)}… (10000 chars)`);
  });
});
