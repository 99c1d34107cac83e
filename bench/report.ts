import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ALL_SYSTEMS,
  REFERENCES,
  SYSTEMS,
  type ComparedSystem,
  type SystemName,
} from './adapters/adapter.js';
import type { RowSpec, Target } from './cases/case.js';
import { median } from './util.js';

/** One run of one case for one system. */
export interface Sample {
  caseId: string;
  system: SystemName;
  rep: number;
  values: Record<string, number>;
  detail?: Record<string, unknown>;
}

export interface TargetResult {
  text: string;
  kind: Target['kind'];
  /** ours / peer for a ratio target, ours for an absolute one. */
  measured?: number;
  met?: boolean;
}

export interface RowResult {
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Median over the repetitions, per system. */
  medians: Partial<Record<SystemName, number>>;
  /** Every repetition's value, per system. */
  values: Partial<Record<SystemName, number[]>>;
  bestPeer?: SystemName;
  /** ours / best peer (best = highest for throughput, lowest for costs and latency). */
  ratioToBestPeer?: number;
  targets: TargetResult[];
  /** All targets met; undefined when the row has none or lacks data. */
  met?: boolean;
  notes: string[];
  chart?: string;
}

const PEERS = SYSTEMS.filter((s) => s !== 'ours');

export function buildRows(specs: readonly RowSpec[], samples: readonly Sample[]): RowResult[] {
  return specs.map((spec) => {
    const values: Partial<Record<SystemName, number[]>> = {};
    const medians: Partial<Record<SystemName, number>> = {};
    for (const system of ALL_SYSTEMS) {
      const list = samples
        .filter((s) => s.caseId === spec.caseId && s.system === system)
        .map((s) => s.values[spec.metric])
        .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      values[system] = list;
      const m = median(list);
      if (m !== undefined) medians[system] = m;
    }
    const ours = medians.ours;
    const bestPeer = pickBestPeer(spec.better, medians);
    const ratioToBestPeer =
      ours !== undefined && bestPeer ? ratio(ours, medians[bestPeer]!) : undefined;
    const targets = spec.targets.map((t) => evaluate(t, spec, ours, medians, bestPeer));
    const met =
      targets.length === 0 || targets.some((t) => t.met === undefined)
        ? undefined
        : targets.every((t) => t.met);
    return {
      label: spec.label,
      unit: spec.unit,
      better: spec.better,
      medians,
      values,
      bestPeer,
      ratioToBestPeer,
      targets,
      met,
      notes: spec.notes,
      chart: spec.chart,
    };
  });
}

function pickBestPeer(
  better: 'higher' | 'lower',
  medians: Partial<Record<SystemName, number>>,
): SystemName | undefined {
  let best: SystemName | undefined;
  for (const peer of PEERS) {
    const v = medians[peer];
    if (v === undefined) continue;
    const b = best === undefined ? undefined : medians[best]!;
    if (b === undefined || (better === 'higher' ? v > b : v < b)) best = peer;
  }
  return best;
}

function ratio(ours: number, peer: number): number | undefined {
  return peer === 0 ? undefined : ours / peer;
}

function evaluate(
  target: Target,
  spec: RowSpec,
  ours: number | undefined,
  medians: Partial<Record<SystemName, number>>,
  bestPeer: SystemName | undefined,
): TargetResult {
  if (target.kind === 'absolute') {
    const text = `< ${target.below} ${spec.unit}`;
    const kind = target.kind;
    if (ours === undefined) return { text, kind };
    return { text, kind, measured: ours, met: ours < target.below };
  }
  const peerName = target.peer === 'best' ? 'best peer' : target.peer;
  const parts: string[] = [];
  if (target.atLeast !== undefined) parts.push(`>= ${target.atLeast}x ${peerName}`);
  if (target.atMost !== undefined) {
    parts.push(
      target.atMost === 1
        ? `<= ${peerName}`
        : target.atMost < 1
          ? `<= 1/${Math.round(1 / target.atMost)} of ${peerName}`
          : `<= ${target.atMost}x ${peerName}`,
    );
  }
  const text = parts.join(' and ');
  const peer = target.peer === 'best' ? bestPeer : target.peer;
  const peerValue = peer === undefined ? undefined : medians[peer];
  const kind = target.kind;
  if (ours === undefined || peerValue === undefined) return { text, kind };
  const measured = ratio(ours, peerValue);
  if (measured === undefined) return { text, kind };
  const met =
    (target.atLeast === undefined || measured >= target.atLeast) &&
    (target.atMost === undefined || measured <= target.atMost);
  return { text, kind, measured, met };
}

export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined) return '-';
  if (unit === 'jobs/s' || unit === 'bytes') return Math.round(value).toLocaleString('en-US');
  if (unit === 'ms') return value.toFixed(3);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
}

function formatTargets(row: RowResult): string {
  if (row.targets.length === 0) return '-';
  return row.targets
    .map((t) =>
      t.measured === undefined || t.kind === 'absolute'
        ? t.text
        : `${t.text} (${formatRatio(t.measured)})`,
    )
    .join('; ');
}

/** A Markdown table with padded columns; the columns `rightAligned` names hold numbers. */
function markdownTable(
  header: readonly string[],
  body: readonly string[][],
  rightAligned: (column: number) => boolean,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (rightAligned(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** The table as Markdown: case | ours | bullmq | bee-queue | ours / best peer | target | met? */
export function formatTable(rows: readonly RowResult[]): string {
  const header = ['case', ...SYSTEMS, 'ours / best peer', 'target', 'met?'];
  const body = rows.map((row) => [
    `${row.label} (${row.unit})`,
    ...SYSTEMS.map((s) => formatValue(row.medians[s], row.unit)),
    row.bestPeer ? `${formatRatio(row.ratioToBestPeer)} (${row.bestPeer})` : '-',
    formatTargets(row),
    row.met === undefined ? (row.targets.length ? '?' : '-') : row.met ? 'yes' : 'NO',
  ]);
  // The systems' values are right-aligned.
  return markdownTable(header, body, (i) => i >= 1 && i <= SYSTEMS.length);
}

/**
 * The rows the reference loops ran in: their medians and their ratio to the best peer, next
 * to ours. A target the reference misses is out of reach of the design on this machine.
 */
export function formatReferenceTable(rows: readonly RowResult[]): string | undefined {
  const measured = rows.filter((row) => REFERENCES.some((r) => row.medians[r] !== undefined));
  if (measured.length === 0) return undefined;
  const vsBest = (row: RowResult, system: SystemName) => {
    const value = row.medians[system];
    const best = row.bestPeer ? row.medians[row.bestPeer] : undefined;
    return value === undefined || best === undefined ? '-' : formatRatio(ratio(value, best));
  };
  const header = ['case', ...REFERENCES.flatMap((r) => [r, '/ best peer']), 'ours', '/ best peer'];
  const body = measured.map((row) => [
    `${row.label} (${row.unit})`,
    ...[...REFERENCES, 'ours' as const].flatMap((system) => [
      formatValue(row.medians[system], row.unit),
      vsBest(row, system),
    ]),
  ]);
  return markdownTable(header, body, (i) => i > 0);
}

/** Written as Prettier would format it, so that `prettier --check .` stays clean after a run. */
export async function writeJson(path: string, report: unknown): Promise<void> {
  const { format, resolveConfig } = await import('prettier');
  const options = (await resolveConfig(path)) ?? {};
  const text = await format(JSON.stringify(report), { ...options, filepath: path });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** The chart shows the compared systems only. */
const COLORS: Record<ComparedSystem, string> = {
  ours: '#2f6fdf',
  bullmq: '#e0672b',
  'bee-queue': '#8a8f98',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function shortNumber(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (value >= 1_000) return `${(value / 1000).toFixed(1)}k`;
  return value.toFixed(0);
}

/**
 * The throughput rows as a bar chart written by hand: one small panel per case, each on
 * its own linear scale (jobs/s), bars for ours and the two peers, medians labelled.
 */
export function throughputSvg(rows: readonly RowResult[], subtitle: string): string {
  const panels = rows.filter((r) => r.chart);
  const columns = 4;
  const panelW = 250;
  const panelH = 210;
  const top = 70;
  const width = columns * panelW + 20;
  const height = top + Math.ceil(panels.length / columns) * panelH + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="17" font-weight="bold">Throughput, jobs/s (median; higher is better)</text>`,
    `<text x="10" y="44" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  SYSTEMS.forEach((system, i) => {
    const x = width - 330 + i * 110;
    parts.push(
      `<rect x="${x}" y="14" width="12" height="12" fill="${COLORS[system]}"/>`,
      `<text x="${x + 17}" y="24" font-size="12">${system}</text>`,
    );
  });
  panels.forEach((row, index) => {
    const px = 10 + (index % columns) * panelW;
    const py = top + Math.floor(index / columns) * panelH;
    const plotTop = py + 40;
    const plotBottom = py + panelH - 30;
    const max = Math.max(1, ...SYSTEMS.map((s) => row.medians[s] ?? 0)) * 1.1;
    parts.push(
      `<text x="${px + (panelW - 20) / 2}" y="${py + 14}" font-size="12" font-weight="bold" text-anchor="middle">${escapeXml(row.chart!)}</text>`,
      `<text x="${px + (panelW - 20) / 2}" y="${py + 29}" font-size="11" fill="#555" text-anchor="middle">ours / best peer: ${formatRatio(row.ratioToBestPeer)}</text>`,
      `<line x1="${px + 10}" y1="${plotBottom}" x2="${px + panelW - 30}" y2="${plotBottom}" stroke="#999"/>`,
    );
    const barW = 50;
    const gap = (panelW - 40 - SYSTEMS.length * barW) / (SYSTEMS.length + 1);
    SYSTEMS.forEach((system, i) => {
      const value = row.medians[system];
      const x = px + 10 + gap + i * (barW + gap);
      const h = value === undefined ? 0 : ((plotBottom - plotTop) * value) / max;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(plotBottom - h).toFixed(1)}" width="${barW}" height="${h.toFixed(1)}" fill="${COLORS[system]}"/>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(plotBottom - h - 4).toFixed(1)}" font-size="11" text-anchor="middle">${value === undefined ? 'n/a' : shortNumber(value)}</text>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${plotBottom + 14}" font-size="10" fill="#333" text-anchor="middle">${system}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function writeSvg(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
