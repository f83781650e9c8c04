/**
 * The Lua scripts, one per atomic operation. Every call is EVALSHA, serialised by
 * pyrq (resp.ts) so that a call can be built ahead of the moment it is sent (the
 * dispatcher's fire batches), with a SCRIPT LOAD and one resend when Redis does not know
 * the script. Each script's header comment documents its KEYS, ARGV and return codes.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { packageText } from '../package-files.js';
import { sendWire } from './prebuilt-command.js';
import { type RespArg, type RespCommand, encodeRespCommand } from './resp.js';

// Each name is a script `src/redis/commands/<name>.lua` with its typed wrapper
// `<name>.ts` beside it: the only module that knows the script's KEYS, ARGV and codes.
export const SCRIPT_NAMES = [
  'apply-changes',
  'btu-ack',
  'fire-batch',
  'lease',
  'read-deep',
  'release-held',
  'record-outcomes',
  'restore-state',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const sources = new Map<string, string>();

/** The text of a script in `src/redis/commands/`. */
export function scriptSource(name: string): string {
  let s = sources.get(name);
  if (s === undefined) {
    s = packageText(`src/redis/commands/${name}.lua`);
    sources.set(name, s);
  }
  return s;
}

/** Runs script `name` with the given keys and args now. */
export function runScript<T = unknown>(
  redis: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly RespArg[],
): Promise<T> {
  return sendPrebuiltScript<T>(redis, prebuildScriptCall(name, keys, args));
}

/** SHA1 of a script's text, as EVALSHA wants it. */
export function scriptSha(name: ScriptName): string {
  let sha = shas.get(name);
  if (sha === undefined) {
    sha = createHash('sha1').update(scriptSource(name)).digest('hex');
    shas.set(name, sha);
  }
  return sha;
}
const shas = new Map<ScriptName, string>();

/** A script call serialised ahead of time (see resp.ts); `argv(i)` is the part index of ARGV[i]. */
export interface PrebuiltScriptCall extends RespCommand {
  name: ScriptName;
  argv(i: number): number;
}

/** Serialises EVALSHA of script `name` with these keys and args, to be sent by `sendPrebuiltScript`. */
export function prebuildScriptCall(
  name: ScriptName,
  keys: readonly string[],
  args: readonly RespArg[],
): PrebuiltScriptCall {
  const parts: RespArg[] = ['EVALSHA', scriptSha(name), keys.length];
  for (const k of keys) parts.push(k);
  for (const a of args) parts.push(a);
  const base = 3 + keys.length - 1;
  return { ...encodeRespCommand(parts), name, argv: (i) => base + i };
}

/** Makes sure Redis knows script `name` (one SCRIPT LOAD), so that prebuilt calls sent in a row find it. */
export async function ensureScript(redis: Redis, name: ScriptName): Promise<void> {
  const [known] = (await redis.script('EXISTS', scriptSha(name))) as number[];
  if (known !== 1) await redis.script('LOAD', scriptSource(name));
}

/**
 * Sends a prebuilt script call. When the server does not know the script (a restarted
 * or flushed Redis), loads it and sends the call once more: a NOSCRIPT reply means the
 * script did not run, so the retry cannot apply anything twice.
 */
export async function sendPrebuiltScript<T = unknown>(redis: Redis, call: PrebuiltScriptCall): Promise<T> {
  const sha = scriptSha(call.name);
  try {
    return await sendWire<T>(redis, call.wire, 'evalsha', [sha]);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    await redis.script('LOAD', scriptSource(call.name));
    return sendWire<T>(redis, call.wire, 'evalsha', [sha]);
  }
}
