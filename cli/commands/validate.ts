import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { diff } from '../../src/plan/diff.js';
import type { ObservedEntry } from '../../src/plan/types.js';
import type { SourceError, SourceSnapshot } from '../../src/source.js';
import { sourceErrorText } from '../render/source-error.js';
import { FILE_SOURCE, FileSource } from '../../sources/files/file-source.js';
import { sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { BaseCommand } from '../base-command.js';
import { ignoredRedisFlags, SOURCE_OF_FLAG, sourceFlags } from '../flags.js';
import { exitCodes } from '../help.js';

interface ValidateResult {
  ok: boolean;
  files: number;
  schedules: number;
  errors: (SourceError & { text: string })[];
  /** Things worth knowing that are not errors (a past one-shot that is applied already). */
  notes: string[];
}

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary = 'Check schedules without changing Redis.';
  static override description = `Reads the schedules and makes the plan "pyrq apply" would make against an empty registry, so it reports exactly what apply would refuse: syntax, every field, unknown fields, duplicate ids, and one-shot "at" times already in the past. A one-shot whose time has passed but which is applied already (apply keeps it) is a note, not an error: for those ids only, the registry is read (read only; when Redis cannot be reached they are errors, as for a new schedule).

What it reads: the files and directories (recursively) given as arguments, plus any source named by a flag (--dir, --mysql-url); with no argument, the configured sources, as "pyrq diff" reads them (flags, environment, config file).

${exitCodes({ 0: 'everything is valid', 1: 'some schedule is not, a path does not exist, no source is configured, or a setting is invalid' })}`;

  static override examples = [
    { description: 'Check one file', command: '<%= config.bin %> validate schedules/billing.toml' },
    {
      description: 'Check a whole directory, machine-readable',
      command: '<%= config.bin %> validate fixtures/schedules --json',
    },
    {
      description: 'Check the configured sources, as apply would read them',
      command: '<%= config.bin %> validate --config /etc/pyrq/pyrq.toml',
    },
    {
      description: 'Check a new file beside the directory it will join (duplicate ids too)',
      command: '<%= config.bin %> validate new/reports.yaml --dir /etc/pyrq/schedules',
    },
  ];

  static override strict = false;
  static override args = {
    paths: Args.string({ description: 'Schedule files or directories (else the configured sources).' }),
  };
  static override flags = { ...sourceFlags, ...ignoredRedisFlags };

  async run(): Promise<ValidateResult> {
    const cfg = this.loadSettings();
    const ctx = normalizeContext(cfg);
    const { argv } = await this.parse(Validate);
    const paths = argv as string[];
    const snapshots: SourceSnapshot[] = [];
    const missing: SourceError[] = [];
    const seen = new Set<string>();
    let files = 0;
    for (const path of paths) {
      const st = await stat(path).catch(() => null);
      if (!st) {
        missing.push({ source: FILE_SOURCE, origin: path, message: 'no such file or directory' });
        continue;
      }
      // A directory is read as the file source reads it; a file as a one-file directory.
      const dir = st.isDirectory() ? path : dirname(path);
      const src = new FileSource({
        dir,
        ctx,
        maxFileBytes: cfg.files?.maxFileBytes,
        followSymlinksOutside: cfg.files?.followSymlinksOutside,
      });
      this.onClose(() => src.close());
      const snap = st.isDirectory() ? await src.snapshot() : await src.snapshotOf([basename(path)]);
      const prefix = st.isDirectory()
        ? `${path.replace(/\/$/, '')}/`
        : `${dirname(path) === '.' ? '' : `${dirname(path)}/`}`;
      files += st.isDirectory() ? await src.fileCount() : 1;
      snapshots.push(readOnce(snap, dir, seen, (o) => prefix + o));
    }
    // With paths, the sources named by flags beside them; without, every configured one.
    const named = Object.entries(SOURCE_OF_FLAG)
      .filter(([flag]) => (this.flags as Record<string, unknown>)[flag] !== undefined)
      .map(([, source]) => source);
    const others: string[] = [];
    let readFiles = paths.length > 0;
    if (paths.length === 0 || named.length > 0) {
      const sources = sourcesFromConfig(cfg, { logger: await this.log_() }, paths.length === 0 ? undefined : named);
      this.onClose(async () => {
        for (const s of sources) await s.close();
      });
      for (const s of sources) {
        const snap = await s.snapshot();
        if (s instanceof FileSource) {
          snapshots.push(readOnce(snap, s.opts.dir, seen, (o) => o));
          // A directory that is missing is reported by the snapshot's error, not as a raw ENOENT here.
          files += await s.fileCount().catch(() => 0);
          readFiles = true;
        } else {
          snapshots.push(snap);
          others.push(s.name);
        }
      }
    }
    // The plan against an empty registry: every ownership and one-shot rule applies as in apply.
    const now = Date.now();
    let plan = diff(snapshots, new Map(), now);
    // A one-shot whose time has passed is refused only if it is not applied already (as
    // diff and apply judge it): those few ids are looked up in the registry, read only.
    const pastIds = plan.errors
      .filter((e) => e.id !== undefined && e.path !== undefined && e.message.includes('is in the past'))
      .map((e) => e.id!);
    const notes: string[] = [];
    if (pastIds.length > 0) {
      const observed = await this.appliedEntries(pastIds);
      if (observed) {
        const before = new Set(plan.errors.map((e) => e.id));
        plan = diff(snapshots, observed, now);
        for (const id of pastIds)
          if (before.has(id) && !plan.errors.some((e) => e.id === id))
            notes.push(`${id}: its one-shot time has passed; it is applied already and kept as it is`);
      } else {
        notes.push('Redis was not reachable: a one-shot in the past is reported as apply would report a new one');
      }
    }
    const errors = [...missing, ...plan.errors].map((e) => ({ ...e, text: sourceErrorText(e) }));
    const result: ValidateResult = {
      ok: errors.length === 0,
      files,
      schedules: snapshots.reduce((n, s) => n + s.schedules.length, 0),
      errors,
      notes,
    };
    if (!this.jsonEnabled()) {
      for (const e of result.errors) this.logToStderr(`Error: ${e.text}`);
      for (const n of notes) this.logToStderr(`Note: ${n}`);
      const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
      const where = [...(readFiles ? [n(files, 'file')] : []), ...others.map((name) => `the ${name} source`)].join(
        ' and ',
      );
      this.log(
        result.ok
          ? `ok: ${n(result.schedules, 'schedule')} in ${where}`
          : `${n(result.errors.length, 'error')} in ${where}`,
      );
    }
    if (!result.ok) process.exitCode = 1;
    return result;
  }

  /** The applied entries of `ids` (with their specs), or undefined when Redis cannot be reached. */
  private async appliedEntries(ids: readonly string[]): Promise<Map<string, ObservedEntry> | undefined> {
    let registry;
    try {
      registry = await this.openRegistry();
    } catch {
      return undefined;
    }
    const observed = await registry.readIndexIds(ids);
    const specs = await registry.readSpecs([...observed.keys()]);
    for (const [id, e] of observed) e.spec = specs.get(id);
    return observed;
  }
}

/**
 * A file snapshot with its origins renamed for display (`rename`: as the path given on
 * the command line continues). A file already read through an earlier path (a
 * directory and a file in it, or a file and --dir) is left out: it is one definition,
 * not a duplicate.
 */
function readOnce(
  snap: SourceSnapshot,
  dir: string,
  seen: Set<string>,
  rename: (origin: string) => string,
): SourceSnapshot {
  const earlier = new Set(seen);
  const fresh = (origin: string) => !earlier.has(resolve(dir, origin));
  for (const o of [...snap.schedules.map((d) => d.origin), ...snap.heldOrigins]) seen.add(resolve(dir, o));
  return {
    ...snap,
    schedules: snap.schedules
      .filter((d) => fresh(d.origin))
      .map((d) => ({ spec: d.spec, hash: d.hash, origin: rename(d.origin) })),
    // A directory that cannot be read is reported with the directory itself as its origin.
    errors: snap.errors
      .filter((e) => e.origin === undefined || e.origin === dir || fresh(e.origin))
      .map((e) => ({ ...e, origin: e.origin !== undefined && e.origin !== dir ? rename(e.origin) : e.origin })),
    heldOrigins: snap.heldOrigins.filter(fresh).map(rename),
    byId: undefined,
    changed: undefined,
  };
}
