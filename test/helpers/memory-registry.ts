/**
 * An in-memory registry (`RegistryPort`) for tests of reconcile logic, where Redis adds
 * nothing but start-up time. It is a model of what the Redis adapter stores and of
 * `apply-changes.lua`: the same index values (index-value.ts), the same writes
 * (plan-writes.ts), and per write the same compare-and-set on the spec hash with the
 * same outcomes. test/integration/registry-contract.test.ts runs the same checks against
 * this and the Redis adapter, so the two cannot drift apart.
 *
 * The one intended difference: `readDeep` attaches every entry's spec (the Redis adapter
 * skips parsing the specs a plan does not need; `reconcileOnce` reads those later).
 */
import { parseJson } from '../../src/canonical-json.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { ObservedEntry, Plan } from '../../src/plan/types.js';
import type { EntryOutcome, EntryWrite } from '../../src/redis/commands/apply-changes.js';
import { decodeIndexValue, encodeIndexValue, indexValueHash } from '../../src/registry/index-value.js';
import { applyResultOf, entryWriteOf } from '../../src/registry/plan-writes.js';
import { parseStoredSpec, registryEntryOf, strayNextFire } from '../../src/registry/registry.js';
import type {
  ApplyResult,
  DaemonFacts,
  RegistryEntry,
  RegistryPort,
  SourceStatus,
} from '../../src/registry/registry-port.js';
import { nextFireAfter } from '../../src/schedule/next-fire.js';

export class MemoryRegistry implements RegistryPort {
  /** id -> "hash\tsource\torigin", as in `pyrq:index`. */
  readonly index = new Map<string, string>();
  /** id -> the fields of `pyrq:schedule:<id>`. */
  readonly schedules = new Map<string, Record<string, string>>();
  /** id -> next fire time, as in `pyrq:next`. */
  readonly next = new Map<string, number>();
  /** How many applies announced a change (the `changed` events a Redis apply publishes). */
  published = 0;
  /** How many times each method ran (a test can check what a reconcile read). */
  readonly calls: Record<string, number> = {};
  private readonly health = new Map<string, string>();
  private facts: DaemonFacts = {};

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  async readIndex(): Promise<Map<string, ObservedEntry>> {
    this.count('readIndex');
    const out = new Map<string, ObservedEntry>();
    for (const [id, v] of this.index) out.set(id, decodeIndexValue(v));
    return out;
  }

  async readIndexIds(ids: readonly string[]): Promise<Map<string, ObservedEntry>> {
    this.count('readIndexIds');
    const out = new Map<string, ObservedEntry>();
    for (const id of ids) {
      const v = this.index.get(id);
      if (v) out.set(id, decodeIndexValue(v));
    }
    return out;
  }

  async has(id: string): Promise<boolean> {
    return this.index.has(id);
  }

  async readSpecs(ids: readonly string[]): Promise<Map<string, Schedule>> {
    this.count('readSpecs');
    const out = new Map<string, Schedule>();
    for (const id of ids) {
      const spec = parseStoredSpec(this.schedules.get(id)?.spec);
      if (spec) out.set(id, spec);
    }
    return out;
  }

  async readDeep(now: number): Promise<Map<string, ObservedEntry>> {
    this.count('readDeep');
    const out = new Map<string, ObservedEntry>();
    for (const [id, v] of this.index) {
      const entry: ObservedEntry = decodeIndexValue(v);
      const h = this.schedules.get(id);
      const spec = parseStoredSpec(h?.spec);
      if (!h) entry.drift = 'schedule key missing';
      else if (!spec) entry.drift = 'stored spec is not a valid schedule';
      else if (specHash(spec) !== entry.hash || h.hash !== entry.hash)
        entry.drift = 'stored spec does not match its recorded hash';
      else if (h.source !== entry.source || h.origin !== entry.origin)
        entry.drift = 'stored owner does not match the index';
      else if (!this.next.has(id) && h.done !== '1' && nextFireAfter(spec, now) !== null)
        entry.drift = 'next fire time missing';
      else if (this.next.has(id)) {
        const stray = strayNextFire(spec, this.next.get(id)!, now);
        if (stray) entry.drift = stray;
      }
      if (spec) entry.spec = spec;
      out.set(id, entry);
    }
    return out;
  }

  async applyPlan(plan: Plan, now: number): Promise<ApplyResult> {
    this.count('applyPlan');
    const outcomes = plan.changes.map((c) => this.write(entryWriteOf(c, now), now));
    if (outcomes.includes('applied')) this.published++;
    return applyResultOf(plan.changes, outcomes);
  }

  /** One write, exactly as apply-changes.lua does it. */
  private write(w: EntryWrite, now: number): EntryOutcome {
    const current = this.index.get(w.id);
    const curHash = current === undefined ? '' : indexValueHash(current);
    if (w.op === 'del') {
      if (current === undefined) return 'noop';
      if (curHash !== w.expected) return 'conflict';
      this.index.delete(w.id);
      this.next.delete(w.id);
      this.schedules.delete(w.id);
      return 'applied';
    }
    const value = encodeIndexValue(w);
    if (current === value && w.op !== 'fix') return 'noop';
    if (curHash !== w.expected && curHash !== w.hash) return 'conflict';
    this.index.set(w.id, value);
    const h = this.schedules.get(w.id) ?? {};
    Object.assign(h, { spec: w.spec, hash: w.hash, source: w.source, origin: w.origin, updatedAt: String(now) });
    // A new entry (no index field) is created now; an existing one keeps its createdAt.
    if (current === undefined || h.createdAt === undefined) h.createdAt = String(now);
    this.schedules.set(w.id, h);
    if (w.next === 'remove') this.next.delete(w.id);
    else if (w.next !== 'keep') {
      this.next.set(w.id, w.next.set);
      delete h.done; // a new trigger starts a new life: a finished one-shot may fire again
    }
    return 'applied';
  }

  async readEntries(ids?: readonly string[]): Promise<RegistryEntry[]> {
    const wanted = ids ? ids.filter((id) => this.index.has(id)) : [...this.index.keys()].sort();
    return wanted.map((id) =>
      registryEntryOf(
        id,
        decodeIndexValue(this.index.get(id)!),
        this.schedules.get(id) ?? {},
        this.next.get(id) ?? null,
      ),
    );
  }

  // Stored as JSON text, as in Redis, so a caller's later change to a record it passed cannot leak in.
  async recordSourceStatus(health: readonly SourceStatus[]): Promise<void> {
    for (const h of health) this.health.set(h.source, JSON.stringify(h));
  }

  async readSourceStatus(): Promise<SourceStatus[]> {
    return [...this.health.values()].map((v) => parseJson(v) as SourceStatus);
  }

  async recordDaemonFacts(facts: DaemonFacts): Promise<void> {
    const copy = JSON.parse(JSON.stringify(facts)) as DaemonFacts;
    const clocks = { ...this.facts.clocks, ...copy.clocks };
    for (const [id, c] of Object.entries(clocks)) if (c === null) delete clocks[id];
    this.facts = { ...this.facts, ...copy, ...(Object.keys(clocks).length > 0 ? { clocks } : {}) };
    if (Object.keys(clocks).length === 0) delete this.facts.clocks;
  }

  async readDaemonFacts(): Promise<DaemonFacts> {
    return JSON.parse(JSON.stringify(this.facts)) as DaemonFacts;
  }
}
