/**
 * The typed wrapper of `btu-ack.lua`: writes a BTU RPC acknowledgement (LPUSH + EXPIRE in
 * one script), never onto a key of another type. The only module that knows the script's
 * KEYS, ARGV and reply codes.
 */
import type { Redis } from 'ioredis';
import { runScript } from '../scripts.js';

/** The script's reply codes. */
export const BtuAckCode = {
  written: 1,
  /** The key exists and is not a list: nothing was written. */
  wrongType: -1,
} as const;

export type BtuAckResult = 'written' | 'wrong-type';

/** Pushes `ack` onto `responseKey` and sets its TTL; says whether it was written. */
export async function writeBtuAck(
  redis: Redis,
  responseKey: string,
  ack: string,
  ttlSeconds: number,
): Promise<BtuAckResult> {
  const code = Number(await runScript<number>(redis, 'btu-ack', [responseKey], [ack, ttlSeconds]));
  if (code === BtuAckCode.written) return 'written';
  if (code === BtuAckCode.wrongType) return 'wrong-type';
  throw new Error(`btu-ack: unexpected reply ${code}`);
}
