/**
 * Which file claims which id, kept up to date file by file. A file source of 100,000
 * schedules re-reads one file per edit; rebuilding the id map from every file on each
 * snapshot cost more than the rest of the event path together (~150 ms), so the map is
 * maintained incrementally: a changed file withdraws its old claims and makes its new
 * ones. An id claimed by two files or more is a duplicate (held, an error naming them).
 */
import { type DesiredSchedule, desiredId } from '../../src/source.js';

export class Claims {
  /** Ids claimed by exactly one file: the desired schedules. Insertion order = claim order. */
  readonly single = new Map<string, DesiredSchedule>();
  /** Ids claimed by several files, with every claim in the order made. */
  readonly multi = new Map<string, DesiredSchedule[]>();

  /** Adds the claims of one file's schedules. */
  add(schedules: readonly DesiredSchedule[]): void {
    for (const d of schedules) {
      const id = desiredId(d);
      const one = this.single.get(id);
      if (one) {
        this.single.delete(id);
        this.multi.set(id, [one, d]);
      } else {
        const many = this.multi.get(id);
        if (many) many.push(d);
        else this.single.set(id, d);
      }
    }
  }

  /** Withdraws the claims `origin` made with these schedules. */
  remove(origin: string, schedules: readonly DesiredSchedule[]): void {
    for (const d of schedules) {
      const id = desiredId(d);
      if (this.single.get(id)?.origin === origin) {
        this.single.delete(id);
        continue;
      }
      const many = this.multi.get(id);
      if (!many) continue;
      const rest = many.filter((x) => x.origin !== origin);
      if (rest.length === 1) {
        this.multi.delete(id);
        this.single.set(id, rest[0]!);
      } else {
        this.multi.set(id, rest);
      }
    }
  }

  clear(): void {
    this.single.clear();
    this.multi.clear();
  }
}
