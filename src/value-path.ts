/**
 * Errors located at a path inside a value (`$.args[2]`, `kwargs.items[3]`), shared by
 * the two encoders that walk user data: canonical JSON (`canonical-json.ts`) and pickle
 * (`rq/pickle.ts`). The innermost call throws a `PathError` with the problem; each
 * enclosing container adds its segment while the error unwinds (`rethrowAt`), so a
 * path costs nothing unless something fails. The encoder's entry point then turns it
 * into its own message with `pathText`.
 *
 * Pure: no imports.
 */

/** Thrown inside an encoder; `segments` fill innermost first while unwinding. */
export class PathError extends Error {
  readonly segments: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** Re-throws `err` with `segment` added when it is a `PathError`; any other error as it is. */
export function rethrowAt(err: unknown, segment: string): never {
  if (err instanceof PathError) err.segments.push(segment);
  throw err;
}

/** The segment of an object key: `.name` for an identifier, else `["a key"]`. */
export function keySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The full path, outermost first, after `root` (`$` gives `$.args[2]`). */
export function pathText(root: string, err: PathError): string {
  return root + [...err.segments].reverse().join('');
}
