// Bar charts of the last hour, one bar per minute, drawn as inline SVG.
import { number } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 120;
const TOP = 18;
const BOTTOM = 16;

const CHARTS = [
  ['processed', 'Processed'],
  ['failed', 'Failed'],
  ['enqueued', 'Enqueued'],
  ['retried', 'Retried'],
];

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** One chart: bars scaled to the busiest minute, its peak and the hour's total in the title. */
function chart(series, key, label) {
  const values = series.map((bucket) => bucket[key]);
  const peak = Math.max(1, ...values);
  const total = values.reduce((sum, value) => sum + value, 0);
  const slot = WIDTH / values.length;
  const plot = HEIGHT - TOP - BOTTOM;
  const root = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: `chart ${key}`,
    role: 'img',
    'aria-label': `${label}: ${total} in the last hour`,
  });
  root.append(svg('text', { x: 0, y: 12, class: 'title' }, `${label} · ${number(total)} / h`));
  root.append(svg('text', { x: WIDTH, y: 12, class: 'peak' }, `peak ${number(peak)}/min`));
  values.forEach((value, i) => {
    const height = value === 0 ? 0 : Math.max(1, (value / peak) * plot);
    const bar = svg('rect', {
      x: (i * slot + 0.5).toFixed(1),
      y: (TOP + plot - height).toFixed(1),
      width: Math.max(1, slot - 1).toFixed(1),
      height: height.toFixed(1),
    });
    bar.append(svg('title', {}, `${new Date(series[i].at).toLocaleTimeString('en-GB')}: ${value}`));
    root.append(bar);
  });
  root.append(svg('line', { x1: 0, x2: WIDTH, y1: TOP + plot, y2: TOP + plot, class: 'axis' }));
  root.append(svg('text', { x: 0, y: HEIGHT - 2, class: 'tick' }, '−60 min'));
  root.append(svg('text', { x: WIDTH, y: HEIGHT - 2, class: 'tick end' }, 'now'));
  return root;
}

export function renderCharts(overview) {
  document
    .getElementById('charts')
    .replaceChildren(...CHARTS.map(([key, label]) => chart(overview.series, key, label)));
}
