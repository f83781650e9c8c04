import { describe, expect, it } from 'vitest';
import { socketDirRefusal, socketFileRefusal } from '../../src/control/socket-owner.js';

describe('socket ownership', () => {
  it('refuses a world-writable directory unless sticky', () => {
    expect(socketDirRefusal('/x/s.sock', '/x', 0o40777, 0, 1000)).toMatch(
      /writable by every user and not sticky \(mode 777\)/,
    );
    expect(socketDirRefusal('/tmp/s.sock', '/tmp', 0o41777, 0, 1000)).toBeNull();
    expect(socketDirRefusal('/run/pyrq/s.sock', '/run/pyrq', 0o40750, 1000, 1000)).toBeNull();
    expect(socketDirRefusal('/x/s.sock', '/x', 0o40775, 1000, 1000)).toBeNull(); // group-writable: the group is trusted
    expect(socketDirRefusal('/tmp/pyrq-1000/s.sock', '/tmp/pyrq-1000', 0o40700, 1001, 1000)).toMatch(
      /belongs to uid 1001, not to this daemon's user \(uid 1000\) or root, so that user could replace the socket/,
    );
  });

  it("trusts only a socket of this user's or root's", () => {
    expect(socketFileRefusal('/tmp/s', { isSocket: true, uid: 1000, kind: 'a socket' }, 1000)).toBeNull();
    expect(socketFileRefusal('/tmp/s', { isSocket: true, uid: 0, kind: 'a socket' }, 1000)).toBeNull();
    expect(socketFileRefusal('/tmp/s', { isSocket: true, uid: 1001, kind: 'a socket' }, 1000)).toMatch(
      /belongs to uid 1001, not to this daemon's user \(uid 1000\) or root/,
    );
    expect(socketFileRefusal('/tmp/s', { isSocket: false, uid: 1001, kind: 'a regular file' }, 1000)).toMatch(
      /exists \(a regular file\) and belongs to uid 1001/,
    );
    expect(socketFileRefusal('/tmp/s', { isSocket: false, uid: 1000, kind: 'a regular file' }, 1000)).toBeNull(); // a leftover of ours: replaced
    expect(socketFileRefusal('/tmp/s', { isSocket: false, uid: 1000, kind: 'a directory' }, 1000)).toMatch(
      /is a directory/,
    );
  });
});
