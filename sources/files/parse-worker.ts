/**
 * A parse worker (worker_threads): reads and parses the schedule files the file source
 * sends it, with the same pure code the source runs inline (parse-result.ts), and posts
 * each result back. See parse-pool.ts.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { compileAllowlist } from '../../src/config/normalize-context.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import { contentDigest, failedFile, packFileResult, parseFileResult } from './parse-result.js';

export interface ParseWorkerData {
  source: string;
  /** The context without its allowlist function, which is rebuilt from `allowPatterns`. */
  ctx: Omit<NormalizeContext, 'allowFunction'>;
  /** The reconcile's time: each schedule's next fire time after it is sent back too. */
  now?: number;
}

export interface ParseRequest {
  seq: number;
  rel: string;
  full: string;
}

const data = workerData as ParseWorkerData;
const ctx: NormalizeContext = {
  ...data.ctx,
  allowFunction: data.ctx.allowPatterns ? compileAllowlist(data.ctx.allowPatterns) : undefined,
};

parentPort!.on('message', ({ seq, rel, full }: ParseRequest) => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (e) {
    parentPort!.postMessage({
      seq,
      result: packFileResult(
        failedFile(data.source, rel, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`),
      ),
    });
    return;
  }
  // Flat lists of strings: structured-cloning 100 spec object graphs per file cost both
  // threads more than the strings (and the main thread keeps the texts anyway). The digest
  // is of exactly the bytes parsed: a deep re-sync keeps
  // this result while the file's bytes are the same.
  parentPort!.postMessage({
    seq,
    result: packFileResult(parseFileResult(data.source, rel, bytes, ctx, data.now)),
    digest: contentDigest(bytes),
  });
});
