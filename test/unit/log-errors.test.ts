import { describe, expect, it } from 'vitest';
import { serializeError } from '../../src/log.js';

// Issue 17: an error in a log line never carries an empty `stack` (a blank block under --pretty).
describe('errors in log lines', () => {
  it('an Error keeps its type, message, code and stack', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const s = serializeError(e);
    expect(s).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' });
    expect(String(s.stack)).toContain('log-errors.test.ts');
  });

  it('an Error whose stack is empty, an object with a message, and a string have no stack key', () => {
    const e = new Error('gone');
    e.stack = '';
    expect(serializeError(e)).toEqual({ type: 'Error', message: 'gone' });
    expect(serializeError({ message: "Stream isn't writeable", stack: '  ' })).toEqual({
      message: "Stream isn't writeable",
    });
    expect(serializeError('plain')).toEqual({ message: 'plain' });
  });
});
