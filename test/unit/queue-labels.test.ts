import { describe, expect, it } from 'vitest';
import { OTHER_QUEUE, QueueLabels } from '../../src/http/queue-labels.js';

describe('QueueLabels', () => {
  it('keeps the first queues before a count, then the ones with the most schedules', () => {
    const q = new QueueLabels(2);
    expect(['a', 'b', 'c', 'a'].map((x) => q.label(x))).toEqual(['a', 'b', OTHER_QUEUE, 'a']);
    // c has the most schedules, a and b tie: by name.
    expect(
      q.update(
        new Map([
          ['a', 1],
          ['b', 1],
          ['c', 5],
        ]),
      ),
    ).toEqual(['b']);
    expect(['a', 'b', 'c'].map((x) => q.label(x))).toEqual(['a', OTHER_QUEUE, 'c']);
    // c's schedules deleted: its series goes, b takes the place.
    expect(
      q.update(
        new Map([
          ['a', 1],
          ['b', 1],
        ]),
      ),
    ).toEqual(['c']);
    expect(q.label('c')).toBe(OTHER_QUEUE);
    expect(q.label('b')).toBe('b');
  });

  it('never gives more than max + 1 values for any number of queues', () => {
    const q = new QueueLabels(20);
    const labels = new Set(Array.from({ length: 500 }, (_, i) => q.label(`q${i}`)));
    expect(labels.size).toBe(21);
  });
});
