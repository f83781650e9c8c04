import { describe, expect, it } from 'vitest';
import { socketDirRefusal, socketFileRefusal } from '../../src/control/socket-owner.js';

describe('socket ownership', () => {
  it('refuses a world-writable directory unless sticky', () => {
    expect(socketDirRefusal('/x/s.sock', '/x', 0o40777)).toMatch(/writable by every user and not sticky \(mode 777\)/);
    expect(socketDirRefusal('/tmp/s.sock', '/tmp', 0o41777)).toBeNull();
    expect(socketDirRefusal('/run/pyrq/s.sock', '/run/pyrq', 0o40750)).toBeNull();
    expect(socketDirRefusal('/x/s.sock', '/x', 0o40775)).toBeNull(); // group-writable: the group is trusted
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
