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

  it('matches ioredis on random commands: multi-byte text, lone surrogates, lengths at a digit boundary', () => {
    // A seeded generator: the same commands every run.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const units = ['a', 'Z', '0', ' ', '\r', '\n', 'é', '✓', '€', '\u{1F600}', '\ud800', '\udfff', '\u0000'];
    // Lengths around 9/10 and 99/100 units and bytes: a part whose byte count has more
    // digits than its length is moved along once written.
    const lengths = [0, 1, 3, 4, 9, 10, 33, 34, 40, 99, 100, 333, 334, 1000, 4000];
    for (let c = 0; c < 300; c++) {
      const parts: (string | number | Buffer)[] = ['EVALSHA'];
      const n = 1 + rand(30);
      for (let i = 0; i < n; i++) {
        const kind = rand(10);
        if (kind === 0) parts.push(rand(2) ? rand(1e6) : -rand(1e9) / 7);
        else if (kind === 1)
          parts.push(Buffer.from(Array.from({ length: lengths[rand(lengths.length)]! }, () => rand(256))));
        else {
          const len = lengths[rand(lengths.length)]!;
          const one = rand(3) === 0 ? undefined : units[rand(units.length)]!;
          let text = '';
          while (text.length < len) text += one ?? units[rand(units.length)]!;
          parts.push(text);
        }
      }
      const ours = encodeRespCommand(parts);
      const theirs = new Command('EVALSHA', parts.slice(1)).toWritable({});
      expect(ours.wire.equals(Buffer.isBuffer(theirs) ? theirs : Buffer.from(theirs))).toBe(true);
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        const bytes = Buffer.isBuffer(p) ? p : Buffer.from(String(p));
        expect(ours.wire.subarray(ours.offsets[i], ours.offsets[i]! + ours.lengths[i]!).equals(bytes)).toBe(true);
      }
    }
  });

  it('has room for the worst case: a command larger than any before, of 3-byte characters', () => {
    for (const size of [70_000, 300_000, 1_000_000]) {
      const parts = ['EVALSHA', '€'.repeat(size), '\ud800'.repeat(size / 10), 'x'];
      const theirs = new Command('EVALSHA', parts.slice(1)).toWritable({});
      expect(encodeRespCommand(parts).wire.equals(Buffer.isBuffer(theirs) ? theirs : Buffer.from(theirs))).toBe(true);
    }
  });

  it('refuses a patch of another length (it would corrupt the command)', () => {
    const cmd = encodeRespCommand(parts);
    expect(() => patchRespArg(cmd, 9, '18000000000001')).toThrow(/argument 9 is 13 bytes, not 14/);
  });
});
