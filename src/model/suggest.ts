/**
 * "Did you mean …" for every name pyrq refuses: schedule and config fields, enum values,
 * timezones, commands and flags. Pure.
 */

/**
 * Edit distance ignoring case, counting a swap of two neighbouring letters as one edit
 * (optimal string alignment): `wdie` is one edit from `wide`, as a reader sees it.
 */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  // Three rows: the one before the previous is needed for swaps.
  let before: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      cur.push(d);
    }
    before = prev;
    prev = cur;
  }
  return prev[y.length]!;
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
