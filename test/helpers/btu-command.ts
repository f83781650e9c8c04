/**
 * BTU's `SchedulerAPI` as the app runs it (btu/scheduler_api.py in Datahenge/btu): LPUSH
 * the JSON command on `btu:scheduler:commands` with a fresh `btu:scheduler:rpc:*`
 * response key, then BLPOP that key for the acknowledgement, 5 s at most.
 */
import type { Redis } from 'ioredis';

export const BTU_COMMANDS = 'btu:scheduler:commands';

/** Sends one command and returns the parsed acknowledgement, or null after `timeoutS`. */
export async function sendBtuCommand(
  redis: Redis,
  requestType: string,
  content: string | null,
  timeoutS = 5,
): Promise<unknown> {
  const responseKey = `btu:scheduler:rpc:${Math.random().toString(16).slice(2)}`;
  await redis.lpush(
    BTU_COMMANDS,
    JSON.stringify({ request_type: requestType, request_content: content, response_key: responseKey }),
  );
  // BLPOP blocks its connection: a connection of its own, so the caller's stays free.
  const waiter = redis.duplicate();
  try {
    const reply = await waiter.blpop(responseKey, timeoutS);
    return reply ? JSON.parse(reply[1]) : null;
  } finally {
    waiter.disconnect();
  }
}
