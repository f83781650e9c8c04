import { Command } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodeRespCommand, patchRespArg } from '../../src/redis/resp.js';

describe('RESP encoding of prebuilt commands', () => {
  const parts = [
    'EVALSHA',
    'abc',
    2,
    'k:1',
    'kéy:2',
    Buffer.from([0, 13, 10, 255]),
    '',
    'Grüße ✓',
    Buffer.alloc(0),
    1_700_000_000_000,
  ];

  it('writes exactly the bytes ioredis writes for the same command', () => {
    const ours = encodeRespCommand(parts).wire;
    const theirs = new Command('EVALSHA', parts.slice(1) as (string | number | Buffer)[]).toWritable({});
    expect(ours.equals(Buffer.isBuffer(theirs) ? theirs : Buffer.from(theirs))).toBe(true);
  });

  it('records where each argument lies, and patches one in place', () => {
    const cmd = encodeRespCommand(parts);
    expect(cmd.wire.subarray(cmd.offsets[4], cmd.offsets[4]! + cmd.lengths[4]!).toString()).toBe('kéy:2');
    expect(cmd.wire.subarray(cmd.offsets[5], cmd.offsets[5]! + cmd.lengths[5]!)).toEqual(Buffer.from([0, 13, 10, 255]));
    patchRespArg(cmd, 9, '1800000000000');
    const expected = encodeRespCommand([...parts.slice(0, 9), 1_800_000_000_000]).wire;
    expect(cmd.wire.equals(expected)).toBe(true);
  });

  it('refuses a patch of another length (it would corrupt the command)', () => {
    const cmd = encodeRespCommand(parts);
    expect(() => patchRespArg(cmd, 9, '18000000000001')).toThrow(/argument 9 is 13 bytes, not 14/);
  });
});
