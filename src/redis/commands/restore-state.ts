/**
 * The typed wrapper of `restore-state.lua`: the only module that knows its KEYS, ARGV
 * and reply. Used by the daemon's state mirror (reconcilers/state-mirror.ts).
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';
import { runScript } from '../scripts.js';

export interface RestoreInput {
  /** The marker's value (JSON). */
  marker: string;
  /** Socket store and paused hash, field -> value, as the state file holds them. */
  socket: Record<string, string>;
  paused: Record<string, string>;
}

/** How many of each were restored; null when the marker was present (nothing lost, or another daemon restored). */
export type RestoreReply = { pushed: number; paused: number } | null;

export async function restoreState(redis: Redis, keys: Keys, input: RestoreInput): Promise<RestoreReply> {
  const socket = Object.entries(input.socket);
  const args: string[] = [input.marker, String(socket.length)];
  for (const [k, v] of socket) args.push(k, v);
  for (const [k, v] of Object.entries(input.paused)) args.push(k, v);
  const [pushed, paused] = await runScript<[number, number]>(
    redis,
    'restore-state',
    [keys.stateMarker, keys.socketStore, keys.paused],
    args,
  );
  return pushed < 0 ? null : { pushed, paused: paused };
}
