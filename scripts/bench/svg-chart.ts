/** A small line chart as SVG text: enough for the benchmark's figures, no dependency. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly (readonly [number, number])[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round axis steps: 1, 2 or 5 times a power of ten. */
function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/**
 * One axis: where a value goes (0..1 along it) and where its ticks are. A log axis spans
 * whole powers of ten with ticks at 1, 2 and 5 times each (fewer over many decades): the benchmark's loads run from
 * 50 to 6000 messages/s and its latencies from under a millisecond to tens of seconds.
 */
interface Axis {
  readonly at: (v: number) => number;
  readonly ticks: readonly number[];
}

function linearAxis(maxRaw: number, count: number): Axis {
  const step = niceStep(maxRaw, count);
  const max = Math.ceil(maxRaw / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) ticks.push(v);
  return { at: (v) => Math.min(v, max) / max, ticks };
}

function logAxis(minRaw: number, maxRaw: number): Axis {
  const lo = Math.floor(Math.log10(minRaw));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(maxRaw)));
  const ticks: number[] = [];
  // Fewer ticks per decade when there are many decades, so the labels do not collide.
  const perDecade = hi - lo <= 3 ? [1, 2, 5] : hi - lo <= 5 ? [1, 3] : [1];
  for (let e = lo; e <= hi; e++) for (const m of e === hi ? [1] : perDecade) ticks.push(m * 10 ** e);
  return { at: (v) => (Math.log10(Math.min(Math.max(v, 10 ** lo), 10 ** hi)) - lo) / (hi - lo), ticks };
}

export function lineChart({
  title,
  xLabel,
  yLabel,
  series,
  width = 720,
  height = 420,
  yMax,
  hLine,
  log = false,
}: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** Fixed top of the y axis (points above it are drawn at the top edge); linear axes only. */
  yMax?: number;
  /** A labelled horizontal reference line, e.g. a target. */
  hLine?: { y: number; label: string };
  /** Both axes logarithmic (points at or below 0 are left out). Default false. */
  log?: boolean;
}): string {
  const m = { left: 64, right: 170, top: 40, bottom: 52 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const drawable = ([x, y]: readonly [number, number]): boolean => Number.isFinite(x) && Number.isFinite(y) && (!log || (x > 0 && y > 0));
  const all = series.flatMap((s) => s.points).filter(drawable);
  const xs = all.map(([x]) => x);
  const ys = [...all.map(([, y]) => y), ...(hLine === undefined ? [] : [hLine.y])];
  const xAxis = log ? logAxis(Math.min(...xs, 1e9), Math.max(...xs, 1)) : linearAxis(Math.max(1, ...xs), 6);
  const yAxis = log ? logAxis(Math.min(...ys, 1e9), Math.max(...ys, 1)) : linearAxis(yMax ?? Math.max(1, ...ys) * 1.1, 6);
  const px = (x: number): number => m.left + xAxis.at(x) * w;
  const py = (y: number): number => m.top + h - yAxis.at(y) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const y of yAxis.ticks) {
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toFixed(3)}</text>`);
  }
  for (const x of xAxis.ticks) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.top}" y2="${m.top + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${px(x)}" y="${m.top + h + 16}" text-anchor="middle">${+x.toFixed(3)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#333"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${height - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  if (hLine !== undefined) {
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${py(hLine.y)}" y2="${py(hLine.y)}" stroke="#c00" stroke-dasharray="2 4"/>`);
    out.push(`<text x="${m.left + w - 4}" y="${py(hLine.y) - 4}" text-anchor="end" fill="#c00">${esc(hLine.label)}</text>`);
  }
  series.forEach((s, k) => {
    const pts = s.points.filter(drawable).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 0) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
    }
    const ly = m.top + 10 + k * 18;
    out.push(`<line x1="${m.left + w + 14}" x2="${m.left + w + 38}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${m.left + w + 44}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
