/**
 * The control socket server (Unix domain socket). Framing and parsing are in
 * `protocol.ts`; what each request does is the daemon's handler. This file owns the
 * socket's life and its limits:
 *
 * - the path must be safe (socket-owner.ts): a directory others can rewrite (world-writable,
 *   not sticky) or a file at the path that is not this user's (or root's) socket is a
 *   refusal to start, before anything is sent to it;
 * - a stale socket file of ours is replaced; a live daemon answering on it is a refusal to start;
 * - the file gets mode 0660 (configurable, never world-writable) and an optional group.
 *   Node exposes no peer credentials (SO_PEERCRED), so access control is the file mode
 *   and group: only root, the daemon's user and that group can connect;
 * - a message over 1 MiB, invalid JSON, an unknown op, or a client that leaves a message
 *   unfinished for `slowClientMs` after its first byte (however it trickles in) gets an
 *   error reply and a closed connection; nothing a
 *   client sends can affect other clients or the daemon;
 * - a client may half-close its side after its request (`echo … | socat - UNIX-CONNECT:…`,
 *   `socket.end()`): the connection stays open for writing (`allowHalfOpen`) until the
 *   replies to what it sent are written, then the server closes its side too;
 * - requests on one connection are answered in order; connections are served concurrently.
 */
import { chmodSync, chownSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from '../log.js';
import { checkSocketPathOwner } from './socket-owner.js';
import { listenError, prepareSocketDir } from './socket-path.js';
import { MessageFramer, ProtocolError, type Request, errorReply, parseRequest } from './protocol.js';

/** A native reply object, or plain text (BTU). */
export type Reply = { json: Record<string, unknown> } | { text: string };

export interface ControlServerOptions {
  path: string;
  mode: number;
  group?: string;
  /** A partial message older than this closes the connection (ms): `daemon.clientTimeout`. */
  slowClientMs: number;
  /** An idle connection (no partial message) is closed after this (ms). */
  idleMs?: number;
  maxConnections?: number;
  logger?: Logger;
  handle(req: Request): Promise<Reply>;
}

export class ControlServer {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();

  constructor(private readonly opts: ControlServerOptions) {}

  async start(): Promise<void> {
    const { path } = this.opts;
    prepareSocketDir(path);
    // Only a socket of this user's (or root's) in a directory others cannot rewrite is asked or replaced.
    if (checkSocketPathOwner(path)) {
      if (await isAlive(path))
        throw new Error(
          `another pyrq daemon is already listening on ${path}; stop it first (or use --socket for a different path)`,
        );
      unlinkSync(path); // stale file left by a crash
    }
    const server = net.createServer({ allowHalfOpen: true }, (s) => this.serve(s));
    server.maxConnections = this.opts.maxConnections ?? 1024;
    // Create the socket with restrictive permissions from the start, then set the final mode.
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(path, e)));
        server.listen(path, () => {
          server.removeAllListeners('error');
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    this.server = server; // listening: close() stops it and removes the file
    chmodSync(path, this.opts.mode);
    if (this.opts.group) chownSync(path, -1, groupId(this.opts.group));
    server.on('error', (err) => this.opts.logger?.error({ err }, 'control socket error'));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    const framer = new MessageFramer();
    let queue = Promise.resolve();
    let closing = false;
    let slowTimer: NodeJS.Timeout | null = null;
    const idleMs = this.opts.idleMs ?? 60_000;
    socket.setTimeout(idleMs, () => socket.destroy());
    const fail = (code: string, message: string) => {
      if (closing) return;
      closing = true;
      if (slowTimer) clearTimeout(slowTimer);
      queue = queue.then(() => {
        if (!socket.destroyed) socket.end(`${JSON.stringify(errorReply(code, message))}\n`);
      });
    };
    socket.on('data', (chunk: string) => {
      if (closing) return;
      let messages: string[];
      try {
        messages = framer.push(chunk);
      } catch (e) {
        const pe = e as ProtocolError;
        return fail(pe.code ?? 'BAD_REQUEST', pe.message);
      }
      // The deadline runs from a message's first byte to its end: more bytes of the same
      // message do not extend it (a client sending a byte every 2 s is cut at
      // `slowClientMs`). A completed message stops it; a new partial one starts its own.
      if (slowTimer && (messages.length > 0 || framer.buffered === 0)) {
        clearTimeout(slowTimer);
        slowTimer = null;
      }
      if (framer.buffered > 0 && !slowTimer) {
        slowTimer = setTimeout(
          () => fail('TIMEOUT', `message not completed within ${this.opts.slowClientMs} ms`),
          this.opts.slowClientMs,
        );
      }
      for (const text of messages) {
        let req: Request;
        try {
          req = parseRequest(text);
        } catch (e) {
          const pe = e as ProtocolError;
          return fail(pe.code, pe.message);
        }
        queue = queue.then(() => this.answer(socket, req));
      }
    });
    socket.on('end', () => {
      // The client is done sending: answer what it sent, then close our side.
      if (slowTimer) clearTimeout(slowTimer);
      slowTimer = null;
      if (framer.buffered > 0)
        return fail('BAD_REQUEST', 'incomplete message: the client closed its side before the end of the line');
      if (closing) return;
      closing = true;
      queue = queue.then(() => {
        if (!socket.destroyed) socket.end();
      });
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (slowTimer) clearTimeout(slowTimer);
      this.sockets.delete(socket);
    });
  }

  private async answer(socket: net.Socket, req: Request): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.opts.handle(req);
    } catch (e) {
      reply =
        req.kind === 'btu'
          ? { text: `Error: ${(e as Error).message}` }
          : { json: errorReply('INTERNAL', (e as Error).message, req.reqId) };
    }
    if (socket.destroyed) return;
    if ('text' in reply) {
      // BTU reads one recv(2048) and closes: one write, then end.
      socket.end(reply.text);
    } else {
      socket.write(`${JSON.stringify(reply.json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    }
  }

  /** Stops accepting, closes connections, removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    try {
      unlinkSync(this.opts.path);
    } catch {
      // already gone
    }
  }
}

/** Does a daemon answer `ping` on this socket within 500 ms? */
export async function isAlive(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(path);
    const done = (v: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    let buf = '';
    s.on('connect', () => s.write('{"op":"ping"}\n'));
    s.on('data', (d) => {
      buf += String(d);
      if (buf.includes('\n')) done(true);
    });
    s.on('error', () => done(false));
  });
}

/** Group name (or numeric id) -> gid, from /etc/group. */
function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === group);
  if (!line) throw new Error(`daemon.socketGroup: no group named "${group}"`);
  return Number(line.split(':')[2]);
}
