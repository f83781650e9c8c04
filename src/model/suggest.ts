/**
 * "Did you mean …" for every name pyrq refuses: schedule and config fields, enum values,
 * timezones. Pure.
 */

/** Levenshtein distance, ignoring case. */
export function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(
        dp[j]! + 1,
        dp[j - 1]! + 1,
        prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/**
 * The known word closest to `word`, when close enough: within a third of its length (at
 * least one edit), or a known word that `word` begins (`que` -> `queue`, three
 * characters at least). Undefined when nothing is close.
 */
export function suggest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3))) return best;
  if (word.length >= 3) return known.find((k) => k.toLowerCase().startsWith(word.toLowerCase()));
  return undefined;
}

/** ` (did you mean "x"?)`, or '' when nothing is close. */
export function didYouMean(word: string, known: readonly string[]): string {
  const s = suggest(word, known);
  return s !== undefined ? ` (did you mean ${JSON.stringify(s)}?)` : '';
}

let zones: string[] | undefined;

/** The IANA timezone closest to `tz` ("Europe/Berln", or a bare city "Berlin" -> "Europe/Berlin"). */
export function suggestTimezone(tz: string): string | undefined {
  zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone')];
  if (!tz.includes('/')) {
    const city = tz.toLowerCase().replace(/ /g, '_');
    const byCity = zones.find((z) => z.toLowerCase().endsWith(`/${city}`));
    if (byCity) return byCity;
  }
  return suggest(tz, zones);
}

/** The hint after "unknown timezone …": the closest name, or how to write one. */
export function timezoneHint(tz: string): string {
  const s = suggestTimezone(tz);
  return s !== undefined ? `did you mean ${JSON.stringify(s)}?` : 'use an IANA name such as "Europe/Berlin" or "UTC"';
}
