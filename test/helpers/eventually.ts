/** How `eventually` polls: the whole budget, the pause between tries, and what the failure says it waited for. */
export interface EventuallyOptions {
  /** ms; default 5000. Generous on purpose: the machine is shared, and a pass returns at once. */
  timeout?: number;
  /** ms between tries; default 25. */
  every?: number;
  message: string;
}

/**
 * Polls `check` until it returns a truthy value (which it resolves with); a throw counts as
 * "not yet" and is quoted if the time runs out. Fails naming the message after the timeout.
 * `eventually(check, { message, timeout })`, or positionally `(check, message, timeout, every)`.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: EventuallyOptions | string,
  timeoutMs?: number,
  everyMs?: number,
): Promise<T> {
  const o = typeof opts === 'string' ? { message: opts, timeout: timeoutMs, every: everyMs } : opts;
  const timeout = o.timeout ?? 5000;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeout} ms waiting for: ${o.message}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, o.every ?? 25));
  }
}
