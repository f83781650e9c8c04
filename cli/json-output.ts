/** JSON for `--json`: pretty, and with integers beyond 2^53 written as exact literals. */
const MARK = '\u0000bigint:';

export function toJsonText(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${MARK}${v}` : v), indent);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
