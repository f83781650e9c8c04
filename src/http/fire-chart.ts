/**
 * The status page's chart of the next day's fires (`fireSlots`), as inline SVG: no
 * script, no external asset, no font download. It is readable without JavaScript and
 * without sight: the SVG has a `<title>` and `<desc>`, every bar its own `<title>`
 * (hover), and a sentence beside it says the total and the busiest slot. Times are UTC,
 * like the page's. Pure.
 */
import type { FireSlots } from '../schedule/fire-slots.js';
import { html, type Safe } from './html.js';

const W = 960;
const H = 150;
const TOP = 14;
const BOTTOM = 22;
const LEFT = 36;

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const dayHhmm = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const plural = (n: number, one: string) => `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

/** The sentence that says what the chart shows (also the SVG's description). */
export function chartSummary(s: FireSlots): string {
  const minutes = Math.round(s.slotMs / 60_000);
  const hours = Math.round((s.counts.length * s.slotMs) / 3600_000);
  if (s.total === 0) return `No fires in the next ${hours} hours.`;
  let peak = 0;
  s.counts.forEach((c, i) => (c > s.counts[peak]! ? (peak = i) : undefined));
  const at = s.start + peak * s.slotMs;
  const share = Math.round((100 * s.counts[peak]!) / s.total);
  const mean = s.total / s.counts.length;
  return (
    `${plural(s.total, 'fire')} in the next ${hours} hours (${minutes}-minute slots, UTC). ` +
    `Busiest: ${dayHhmm(at)}–${hhmm(at + s.slotMs)} UTC with ${plural(s.counts[peak]!, 'fire')} (${share}% of all, ${mean > 0 ? Math.round(s.counts[peak]! / mean) : 0}× the average slot).` +
    (s.estimated > 0
      ? ` ${plural(s.estimated, 'schedule')} ${s.estimated === 1 ? 'fires' : 'fire'} more often than ${s.perSchedule} times a day: ${s.estimated === 1 ? 'its' : 'their'} later fires are estimated at the average rate.`
      : '')
  );
}

export function renderFireChart(s: FireSlots): Safe {
  const n = s.counts.length;
  const max = Math.max(1, ...s.counts);
  const bw = (W - LEFT) / n;
  const ph = H - TOP - BOTTOM;
  const mean = s.total / n;
  const summary = chartSummary(s);
  // A label every 3 hours (or every slot when slots are long).
  const every = Math.max(1, Math.round((3 * 3600_000) / s.slotMs));
  const bars = s.counts.map((c, i) => {
    const h = c === 0 ? 0 : Math.max(1, (c / max) * ph);
    const at = s.start + i * s.slotMs;
    // A slot with more than 4x the average and at least 10 fires is a herd: drawn in red.
    const herd = c >= 10 && c > 4 * mean;
    return html`<rect x="${(LEFT + i * bw + 0.5).toFixed(1)}" y="${(TOP + ph - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" class="${herd ? 'herd' : 'bar'}"><title>${hhmm(at)}–${hhmm(at + s.slotMs)} UTC: ${plural(c, 'fire')}</title></rect>`;
  });
  const labels = s.counts
    .map((_, i) => i)
    .filter((i) => i % every === 0)
    .map(
      (i) =>
        html`<text x="${(LEFT + i * bw).toFixed(1)}" y="${H - 6}" class="label">${hhmm(s.start + i * s.slotMs)}</text>`,
    );
  return html`<figure id="fire-chart"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="fire-chart-title fire-chart-desc">
<title id="fire-chart-title">Fires per ${Math.round(s.slotMs / 60_000)} minutes, next ${Math.round((n * s.slotMs) / 3600_000)} hours</title>
<desc id="fire-chart-desc">${summary}</desc>
<style>.bar{fill:#3b6ea8}.herd{fill:#b00020}.label{font:11px system-ui,sans-serif;fill:#555}.axis{stroke:#999;stroke-width:1}</style>
<line x1="${LEFT}" y1="${TOP + ph + 0.5}" x2="${W}" y2="${TOP + ph + 0.5}" class="axis"/>
<text x="${LEFT - 4}" y="${TOP + 4}" class="label" text-anchor="end">${max}</text>
<text x="${LEFT - 4}" y="${TOP + ph}" class="label" text-anchor="end">0</text>
${bars}
${labels}
</svg><figcaption id="fire-chart-summary">${summary}</figcaption></figure>`;
}
