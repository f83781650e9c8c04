/**
 * The Lua scripts, one per atomic operation, registered once per connection with
 * ioredis `defineCommand` (EVALSHA with a transparent EVAL fallback). Each script's
 * header comment documents its KEYS, ARGV and return codes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { PACKAGE_ROOT } from '../paths.js';

// Scripts are added here as they are written; each name is a file in src/redis/lua/.
export const SCRIPT_NAMES = ['apply-changes', 'fire-batch', 'lease'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const sources = new Map<string, string>();

/** The text of a script in `src/redis/lua/`. */
export function scriptSource(name: string): string {
  let s = sources.get(name);
  if (s === undefined) {
    s = readFileSync(join(PACKAGE_ROOT, 'src', 'redis', 'lua', `${name}.lua`), 'utf8');
    sources.set(name, s);
  }
  return s;
}

const commandName = (name: string): string => `pyrq_${name.replace(/-/g, '_')}`;
const defined = new WeakMap<Redis, Set<string>>();

/** Runs script `name` with the given keys and args (defining it on this connection once). */
export async function runScript<T = unknown>(redis: Redis, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
  return (await scriptCommand(redis, name)(keys, args)) as T;
}

/**
 * A pipeline on which every script is available (ioredis copies custom commands into a
 * pipeline when it is created, so they are all defined first).
 */
export function scriptPipeline(redis: Redis): ReturnType<Redis['pipeline']> {
  for (const name of SCRIPT_NAMES) ensureDefined(redis, name);
  return redis.pipeline();
}

/** Queues script `name` on a pipeline made by `scriptPipeline` (many batches, one round trip). */
export function pipelineScript(pipeline: ReturnType<Redis['pipeline']>, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): void {
  (pipeline as unknown as Record<string, (...a: unknown[]) => unknown>)[commandName(name)]!(keys.length, ...keys, ...args);
}

function ensureDefined(redis: Redis, name: string): void {
  let set = defined.get(redis);
  if (!set) {
    set = new Set();
    defined.set(redis, set);
  }
  if (!set.has(name)) {
    redis.defineCommand(commandName(name), { lua: scriptSource(name) });
    set.add(name);
  }
}

function scriptCommand(redis: Redis, name: string): (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown> {
  ensureDefined(redis, name);
  const fn = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[commandName(name)]!;
  return (keys, args) => fn.call(redis, keys.length, ...keys, ...args);
}
