import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Args } from '@oclif/core';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { type SourceError, formatSourceError } from '../../src/source.js';
import { FileSource } from '../../sources/files/file-source.js';
import { BaseCommand } from '../base-command.js';

interface ValidateResult {
  ok: boolean;
  files: number;
  schedules: number;
  errors: (SourceError & { text: string })[];
}

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary = 'Check schedule files without touching Redis.';
  static override description = `Parses and validates files or directories (recursively) exactly as the file source does: syntax, every field, unknown fields, duplicate ids, and one-shot "at" times already in the past. Exit code 0 when everything is valid, 1 otherwise.`;

  static override examples = [
    { description: 'Check one file', command: '<%= config.bin %> validate schedules/billing.toml' },
    { description: 'Check a whole directory, machine-readable', command: '<%= config.bin %> validate fixtures/schedules --json' },
  ];

  static override strict = false;
  static override args = { paths: Args.string({ description: 'Schedule files or directories.', required: true }) };

  async run(): Promise<ValidateResult> {
    const cfg = this.loadSettings();
    const ctx = normalizeContext(cfg);
    const { argv } = await this.parse(Validate);
    const now = Date.now();
    const result: ValidateResult = { ok: true, files: 0, schedules: 0, errors: [] };
    const seen = new Map<string, string>();
    for (const path of argv as string[]) {
      const st = await stat(path).catch(() => null);
      if (!st) {
        result.errors.push({ source: 'files', origin: path, message: 'no such file or directory', text: `${path}: no such file or directory` });
        continue;
      }
      // A directory is read as the file source reads it; a file as a one-file directory.
      const dir = st.isDirectory() ? path : dirname(path);
      const src = new FileSource({ dir, ctx, maxFileBytes: cfg.files?.maxFileBytes });
      const snap = st.isDirectory() ? await src.snapshot() : await src.snapshotOf([basename(path)]);
      const prefix = st.isDirectory() ? `${path.replace(/\/$/, '')}/` : `${dirname(path) === '.' ? '' : `${dirname(path)}/`}`;
      result.files += st.isDirectory() ? (await src.fileCount()) : 1;
      for (const e of snap.errors) {
        const err = { ...e, origin: e.origin !== undefined && e.origin !== dir ? prefix + e.origin : e.origin };
        result.errors.push({ ...err, text: formatSourceError(err) });
      }
      for (const d of snap.schedules) {
        const where = prefix + d.origin;
        const prev = seen.get(d.spec.id);
        if (prev !== undefined && prev !== where) {
          const err: SourceError = { source: 'files', origin: where, id: d.spec.id, message: `id is also defined in ${prev}` };
          result.errors.push({ ...err, text: formatSourceError(err) });
        }
        seen.set(d.spec.id, where);
        if (d.spec.at !== undefined && Date.parse(d.spec.at) <= now) {
          const err: SourceError = { source: 'files', origin: where, id: d.spec.id, path: 'at', message: `${d.spec.at} is in the past; a one-shot schedule must be in the future when it is first applied` };
          result.errors.push({ ...err, text: formatSourceError(err) });
        }
        result.schedules++;
      }
    }
    result.ok = result.errors.length === 0;
    if (!this.jsonEnabled()) {
      for (const e of result.errors) this.logToStderr(`error: ${e.text}`);
      this.log(result.ok ? `ok: ${result.schedules} schedules in ${result.files} files` : `${result.errors.length} error(s) in ${result.files} files`);
    }
    if (!result.ok) process.exitCode = 1;
    return result;
  }
}

