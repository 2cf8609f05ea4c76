/** Small, dependency-free SVG charts for the analytics figures: readable in a browser, an <img> or an email. */

export interface Point {
  label: string;
  value: number;
}

const WIDTH = 720;
const HEIGHT = 320;
const PAD = { top: 40, right: 20, bottom: 70, left: 50 };

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string);
const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** A "nice" axis maximum (1, 2 or 5 times a power of ten) so gridlines fall on round numbers. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].map((m) => m * step).find((v) => v >= max) as number);
}

function frame(title: string, description: string, yMax: number, body: string): string {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = PAD.top + plotH * (1 - f);
      return `<line x1="${PAD.left}" y1="${y}" x2="${WIDTH - PAD.right}" y2="${y}" stroke="#e5e7eb"/><text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#4b5563">${fmt(yMax * f)}</text>`;
    })
    .join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="t d" font-family="system-ui, sans-serif">`,
    `<title id="t">${escapeXml(title)}</title><desc id="d">${escapeXml(description)}</desc>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="24" font-size="15" font-weight="600" fill="#111827">${escapeXml(title)}</text>`,
    grid,
    body,
    `</svg>`,
  ].join("");
}

/** Labels under the x axis, thinned so they never overlap. */
function xLabels(points: readonly Point[], xOf: (i: number) => number): string {
  const every = Math.max(1, Math.ceil(points.length / 12));
  return points
    .map((p, i) => (i % every === 0 ? `<text x="${xOf(i)}" y="${HEIGHT - PAD.bottom + 14}" font-size="10" fill="#4b5563" text-anchor="end" transform="rotate(-35 ${xOf(i)} ${HEIGHT - PAD.bottom + 14})">${escapeXml(p.label.length > 24 ? `${p.label.slice(0, 23)}…` : p.label)}</text>` : ""))
    .join("");
}

export function lineChart(title: string, points: readonly Point[]): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const xOf = (i: number) => PAD.left + (points.length <= 1 ? plotW / 2 : (plotW * i) / (points.length - 1));
  const yOf = (v: number) => PAD.top + plotH * (1 - v / yMax);
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${xOf(i).toFixed(1)},${yOf(p.value).toFixed(1)}`).join(" ");
  const dots = points.map((p, i) => `<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(p.value).toFixed(1)}" r="3" fill="#2563eb"><title>${escapeXml(`${p.label}: ${fmt(p.value)}`)}</title></circle>`).join("");
  const description = points.map((p) => `${p.label}: ${fmt(p.value)}`).join("; ");
  return frame(title, description, yMax, `<path d="${path}" fill="none" stroke="#2563eb" stroke-width="2"/>${dots}${xLabels(points, xOf)}`);
}

export function barChart(title: string, bars: readonly Point[]): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const slot = plotW / Math.max(1, bars.length);
  const xOf = (i: number) => PAD.left + slot * i + slot / 2;
  const rects = bars
    .map((b, i) => {
      const h = (plotH * b.value) / yMax;
      return `<rect x="${(PAD.left + slot * i + slot * 0.15).toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="#059669"><title>${escapeXml(`${b.label}: ${fmt(b.value)}`)}</title></rect>`;
    })
    .join("");
  const description = bars.map((b) => `${b.label}: ${fmt(b.value)}`).join("; ");
  return frame(title, description, yMax, `${rects}${xLabels(bars, xOf)}`);
}
