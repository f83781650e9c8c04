/**
 * Counts what a connection sends: commands, and round trips (a pipeline is one round
 * trip however many commands it carries; every other command is one). ioredis routes
 * pipelined commands through `sendCommand` with a pipeline stream, so wrapping that
 * one method of the instance sees everything.
 */
import type { Redis } from 'ioredis';

export interface Counter {
  commands: number;
  roundTrips: number;
  reset(): void;
}

export function countCommands(redis: Redis): Counter {
  const counter: Counter = {
    commands: 0,
    roundTrips: 0,
    reset() {
      counter.commands = 0;
      counter.roundTrips = 0;
    },
  };
  const pipelines = new WeakSet<object>();
  const original = redis.sendCommand.bind(redis) as (...a: unknown[]) => unknown;
  (redis as unknown as { sendCommand: (...a: unknown[]) => unknown }).sendCommand = (...args: unknown[]) => {
    const stream = args[1] as { isPipeline?: boolean } | undefined;
    counter.commands++;
    if (stream?.isPipeline) {
      if (!pipelines.has(stream)) {
        pipelines.add(stream);
        counter.roundTrips++;
      }
    } else {
      counter.roundTrips++;
    }
    return original(...args);
  };
  return counter;
}
