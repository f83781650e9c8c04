/**
 * Checks a control-socket path before the daemon listens on it, so every way it can be
 * wrong is one clear error naming the path, the reason and what to do, never a raw
 * `EEXIST … mkdir`, a stray socket at a truncated path, or a hang:
 *
 * - longer than AF_UNIX allows (107 bytes on Linux): the kernel would truncate it;
 * - a part of the path that exists but is not a directory;
 * - a missing directory that cannot be created (it is created, mode 0750, when it can;
 *   one level at a time: Node's recursive mkdir spins forever where mkdir says ENOENT
 *   under an existing parent, as in /proc);
 * - a directory this user cannot write to.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PyrqError } from '../errors.js';

/** `sun_path` is 108 bytes on Linux, one of them the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

const CHOOSE = 'choose another path with --socket (PYRQ_SOCKET, daemon.socket)';

/** Throws CONFIG_INVALID when the path is longer than a Unix socket path can be. */
export function checkSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new PyrqError(
      'CONFIG_INVALID',
      `socket path ${path} is ${bytes} bytes long; a Unix socket path can have at most ${MAX_SOCKET_PATH_BYTES}: ${CHOOSE}`,
    );
  }
}

/** Makes sure the socket's directory exists (creating what is missing) and is writable; throws CONFIG_INVALID saying why not. */
export function prepareSocketDir(path: string): void {
  checkSocketPathLength(path);
  const dir = dirname(resolve(path));
  // The nearest part of the path that exists, and what is missing below it.
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    let st;
    try {
      st = statSync(existing);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dirname(existing) !== existing) {
        missing.unshift(existing);
        existing = dirname(existing);
        continue;
      }
      throw new PyrqError(
        'CONFIG_INVALID',
        `socket path ${path}: cannot read ${existing} (${code ?? (e as Error).message}); ${CHOOSE}`,
      );
    }
    if (!st.isDirectory())
      throw new PyrqError('CONFIG_INVALID', `socket path ${path}: ${existing} is not a directory; ${CHOOSE}`);
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o750 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(d).isDirectory()) continue; // made meanwhile by someone else
      throw new PyrqError(
        'CONFIG_INVALID',
        `socket path ${path}: cannot create the directory ${d} (${code ?? (e as Error).message}); create it (mkdir -p ${dir}) with write access for this user, or ${CHOOSE}`,
      );
    }
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new PyrqError(
      'CONFIG_INVALID',
      `socket path ${path}: this user (uid ${process.getuid?.() ?? '?'}) cannot create files in ${dir} (${(e as NodeJS.ErrnoException).code}); give it write access or ${CHOOSE}`,
    );
  }
}

/** A failed listen as an error that says what to do. */
export function listenError(path: string, e: NodeJS.ErrnoException): PyrqError {
  const why =
    e.code === 'EACCES' || e.code === 'EPERM'
      ? 'permission denied'
      : e.code === 'EADDRINUSE'
        ? 'the address is in use'
        : (e.code ?? e.message);
  return new PyrqError('CONFIG_INVALID', `cannot listen on socket ${path}: ${why}; ${CHOOSE}`);
}
