/** CLI side of the control socket: ask the daemon, map failures to the error catalogue. */
import { DaemonUnavailable, request } from '../src/control/client.js';
import { PyrqError } from '../src/errors.js';

export async function askDaemon(socket: string, req: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
  let reply;
  try {
    reply = await request(socket, req, timeoutMs);
  } catch (e) {
    if (e instanceof DaemonUnavailable)
      throw new PyrqError(
        'DAEMON_UNAVAILABLE',
        `${e.message}; is "pyrq daemon" running? (--socket, PYRQ_SOCKET or daemon.socket)`,
      );
    throw e;
  }
  if (!reply.ok)
    throw new PyrqError('DAEMON_ERROR', reply.error?.message ?? 'the daemon refused the request', reply.error);
  return reply.result;
}
