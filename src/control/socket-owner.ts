/**
 * The socket is ours (issue 22): a local user who creates the socket path first (BTU's
 * old default is `/tmp/btu_scheduler.sock`) and answers `pong` used to make the daemon
 * exit ("another pyrq daemon is already listening") and then received the app's
 * commands. So, before the daemon trusts or replaces what is at its socket path:
 *
 * - the path's directory must belong to the daemon's user or root, and must not be
 *   writable by everyone unless it is sticky (as /tmp is): otherwise someone else can
 *   replace the daemon's socket after it listens;
 * - a file already at the path must be owned by the daemon's own user or by root; a
 *   stranger's file is refused before a byte is sent to it (a stranger's socket is never
 *   asked `ping`) and is never removed. A file of ours that no daemon answers on is
 *   replaced, as before (a leftover from a crash).
 *
 * The decisions are pure (`socketDirRefusal`, `socketFileRefusal`); `checkSocketPathOwner`
 * reads the file system.
 */
import { lstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PyrqError } from '../errors.js';

const CHOOSE =
  'choose a path in a directory only this user (or root) can write, e.g. /run/pyrq/pyrq.sock (--socket, PYRQ_SOCKET, daemon.socket)';

/**
 * Why the socket's directory is unsafe (null: it is not). `mode`, `uid`: the directory's
 * st_mode and owner. A directory owned by another user is refused too: its owner can
 * replace the socket whatever its mode (e.g. a `/tmp/pyrq-<uid>` made by someone else first).
 */
export function socketDirRefusal(path: string, dir: string, mode: number, uid: number, myUid: number): string | null {
  if (uid !== myUid && uid !== 0)
    return `socket path ${path}: its directory ${dir} belongs to uid ${uid}, not to this daemon's user (uid ${myUid}) or root, so that user could replace the socket; ${CHOOSE}`;
  const worldWritable = (mode & 0o002) !== 0;
  const sticky = (mode & 0o1000) !== 0;
  if (worldWritable && !sticky)
    return `socket path ${path}: its directory ${dir} is writable by every user and not sticky (mode ${(mode & 0o7777).toString(8)}), so anyone could replace the socket; ${CHOOSE}`;
  return null;
}

export interface ExistingFile {
  isSocket: boolean;
  uid: number;
  /** What it is, for the message: "a regular file", "a directory", ... */
  kind: string;
}

/** Why an existing file at the socket path is not the daemon's to trust or replace (null: it is). */
export function socketFileRefusal(path: string, f: ExistingFile, myUid: number): string | null {
  if (f.uid !== myUid && f.uid !== 0)
    return `socket path ${path} exists${f.isSocket ? '' : ` (${f.kind})`} and belongs to uid ${f.uid}, not to this daemon's user (uid ${myUid}) or root: another user may have created it to receive the daemon's clients, so pyrq neither talks to it nor removes it; remove it as root, or ${CHOOSE}`;
  // A leftover of ours that is not a socket (a crash, a stray copy) is replaced as a stale socket is; a directory cannot be.
  if (f.kind === 'a directory') return `socket path ${path} is a directory; ${CHOOSE}`;
  return null;
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  return 'not a socket';
}

/**
 * Throws CONFIG_INVALID when the socket's directory is unsafe or a file at the path is not
 * this user's (or root's) socket. Returns whether a socket of ours is there (to be asked
 * whether a daemon still listens on it, else replaced).
 */
export function checkSocketPathOwner(path: string): boolean {
  const dir = dirname(resolve(path));
  const myUid = process.getuid?.() ?? -1;
  const d = statSync(dir);
  const dirRefusal = socketDirRefusal(path, dir, d.mode, d.uid, myUid);
  if (dirRefusal) throw new PyrqError('CONFIG_INVALID', dirRefusal);
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const refusal = socketFileRefusal(path, { isSocket: st.isSocket(), uid: st.uid, kind: kindOf(st) }, myUid);
  if (refusal) throw new PyrqError('CONFIG_INVALID', refusal);
  return true;
}
