import type { Figure } from './bench.figures';

/**
 * The throughput-by-concurrency chart of the gated group, as plain SVG text
 * (no dependency): one line per store, concurrency on a log-2 axis, ops/s on
 * a linear one from zero. `npm run bench` writes it to docs/bench/throughput.svg.
 */
const STORES = [
  { key: 'memory', label: 'memory store', colour: '#1f77b4' },
  { key: 'file', label: 'file store', colour: '#2ca02c' },
  { key: 'durable', label: 'file store, durable (fdatasync)', colour: '#d62728' },
];

const WIDTH = 640;
const HEIGHT = 380;
const MARGIN = { left: 72, right: 24, top: 48, bottom: 88 };

/** Round axis steps: 1, 2 or 5 times a power of ten, about five of them. */
function niceStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function thousands(value: number): string {
  return value >= 1000 ? `${Math.round(value / 1000)} k` : String(Math.round(value));
}

/** Null when the figures hold no `gated.<store>.c<N>.ops` series. */
export function throughputChart(
  figures: readonly Figure[],
  concurrencies: readonly number[],
  caption: string,
): string | null {
  const byId = new Map(figures.map((f) => [f.id, f.value]));
  const series = STORES.map((store) => ({
    ...store,
    points: concurrencies
      .map((c) => ({ c, ops: byId.get(`gated.${store.key}.c${c}.ops`) }))
      .filter(
        (p): p is { c: number; ops: number } => p.ops !== undefined && Number.isFinite(p.ops),
      ),
  })).filter((s) => s.points.length > 0);
  if (series.length === 0) return null;
  const maxOps = Math.max(...series.flatMap((s) => s.points.map((p) => p.ops)));
  const step = niceStep(maxOps);
  const top = Math.ceil(maxOps / step) * step;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const logs = concurrencies.map((c) => Math.log2(c));
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  const x = (c: number) => MARGIN.left + ((Math.log2(c) - lo) / (hi - lo || 1)) * plotW;
  const y = (ops: number) => MARGIN.top + plotH - (ops / top) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Gated call throughput by concurrency (gateway.execute, ALLOW)</text>`,
  ];
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`,
      `<text x="${MARGIN.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${thousands(v)}</text>`,
    );
  }
  for (const c of concurrencies) {
    out.push(
      `<line x1="${x(c).toFixed(1)}" x2="${x(c).toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x(c).toFixed(1)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${c}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 36}" text-anchor="middle">concurrency (calls in flight, log scale)</text>`,
    `<text x="18" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotH / 2})">calls per second</text>`,
  );
  let legendX = MARGIN.left;
  for (const s of series) {
    const path = s.points.map((p) => `${x(p.c).toFixed(1)},${y(p.ops).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.colour}" stroke-width="2.5"/>`);
    for (const p of s.points) {
      out.push(
        `<circle cx="${x(p.c).toFixed(1)}" cy="${y(p.ops).toFixed(1)}" r="3.5" fill="${s.colour}"><title>${escape(s.label)}, concurrency ${p.c}: ${Math.round(p.ops)} ops/s</title></circle>`,
      );
    }
    const lx = legendX;
    const ly = HEIGHT - 26;
    legendX += 40 + s.label.length * 6.5;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2.5"/>`,
      `<text x="${lx + 28}" y="${ly}">${escape(s.label)}</text>`,
    );
  }
  out.push(
    `<text x="${WIDTH / 2}" y="${HEIGHT - 6}" text-anchor="middle" font-size="10" fill="#666">${escape(caption)}</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
