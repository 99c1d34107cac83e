import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SYSTEMS, type ComparedSystem } from './adapters/adapter.js';
import { formatValue, type RowResult } from './report.js';

/**
 * The README's benchmark table, rendered from `bench/results/latest.json` so that the figures
 * users read are the ones the last full run wrote, never copied by hand.
 */
export const BENCH_START = '<!-- bench:start -->';
export const BENCH_END = '<!-- bench:end -->';

export const LATEST_JSON = fileURLToPath(new URL('./results/latest.json', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** What the table needs of latest.json (`run.ts` writes it). */
export interface LatestReport {
  date: string;
  redis: string;
  node: string;
  cpu: string;
  loadAverageAtStart: number[];
  source?: { commit: string; libsModified: boolean };
  versions: Record<string, string>;
  durationSeconds: number;
  config: { reps: number };
  rows: RowResult[];
}

const NAMES: Record<ComparedSystem, string> = {
  ours: 'nest-queue-system',
  bullmq: 'BullMQ',
  'bee-queue': 'Bee-Queue',
};

const WIDTH = 100;

/**
 * Words joined into lines of at most `WIDTH` characters, as the README's prose is wrapped; a
 * code span is never broken.
 */
function wrap(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.match(/(?:`[^`]*`|[^\s`])+/g) ?? []) {
    if (line && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join('\n');
}

function systemName(system: ComparedSystem, report: LatestReport): string {
  const version = report.versions[system];
  return version ? `${NAMES[system]} ${version}` : NAMES[system];
}

/** The row's label without run.ts's `[reps a/b/c]`, which the repetitions note replaces. */
function caseCell(row: RowResult, reps: number): string {
  const label = row.label.replace(/\s*\[reps [\d/]+\]$/, '');
  const counts = SYSTEMS.map((s) => row.values[s]?.length ?? 0);
  const fewer = counts.some((n) => n !== reps);
  const note = !fewer
    ? ''
    : counts.every((n) => n === counts[0])
      ? `; ${counts[0]} of ${reps} repetitions`
      : `; repetitions ${counts.join('/')}`;
  return `${label} (${row.unit}${note})`;
}

function ratioCell(row: RowResult): string {
  const peer = row.bestPeer as ComparedSystem | undefined;
  if (row.ratioToBestPeer === undefined || !peer) return '-';
  const ratio = row.ratioToBestPeer;
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x ${NAMES[peer]}`;
}

function tableLine(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Cells as they come: Prettier pads the columns. */
function markdownTable(header: readonly string[], body: readonly string[][]): string {
  const rule = `| ${header.map((_, i) => (i >= 1 && i <= SYSTEMS.length ? '---:' : '---')).join(' | ')} |`;
  return [tableLine(header), rule, ...body.map(tableLine)].join('\n');
}

/** The Markdown that goes between the markers, before Prettier lays it out. */
export function benchSectionText(report: LatestReport): string {
  const reps = report.config.reps;
  const load = report.loadAverageAtStart[0]?.toFixed(2) ?? '?';
  const commit = report.source
    ? `commit ${report.source.commit}${report.source.libsModified ? ' with uncommitted changes' : ''}`
    : 'commit unknown';
  const machine =
    `Measured by \`npm run bench\` on ${report.date.slice(0, 10)} (${commit}): ${report.cpu}, ` +
    `${report.node}, ${report.redis}, load ${load} at the start; medians of ${reps} ` +
    `interleaved repetitions.`;
  const header = ['case', ...SYSTEMS.map((s) => systemName(s, report)), 'ours / best peer'];
  const body = report.rows.map((row) => [
    caseCell(row, reps),
    ...SYSTEMS.map((s) => formatValue(row.medians[s], row.unit)),
    ratioCell(row),
  ]);
  const reading =
    'ours / best peer: our median over the best peer’s (above 1x is better for jobs/s, below 1x ' +
    'for costs); only ratios within one run mean anything. Every row but default retention ' +
    'deletes completed jobs at once in all three; `bench/README.md` gives every setting.';
  return `${wrap(machine)}\n\n${markdownTable(header, body)}\n\n${wrap(reading)}\n`;
}

/** The section as it stands in the README: laid out by Prettier with the repository's config. */
export async function renderBenchSection(report: LatestReport): Promise<string> {
  const { format, resolveConfig } = await import('prettier');
  const options = (await resolveConfig(README)) ?? {};
  return format(benchSectionText(report), { ...options, parser: 'markdown' });
}

/** What lies between the markers, without the blank lines around it; throws without them. */
export function sectionBetweenMarkers(readme: string): string {
  const start = readme.indexOf(BENCH_START);
  const end = readme.indexOf(BENCH_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${BENCH_START} ... ${BENCH_END} section`);
  }
  return `${readme.slice(start + BENCH_START.length, end).trim()}\n`;
}

/** The README with only what lies between the markers replaced by `section`. */
export function replaceBetweenMarkers(readme: string, section: string): string {
  sectionBetweenMarkers(readme);
  const start = readme.indexOf(BENCH_START) + BENCH_START.length;
  const end = readme.indexOf(BENCH_END);
  return `${readme.slice(0, start)}\n\n${section.trim()}\n\n${readme.slice(end)}`;
}

export async function readLatest(path = LATEST_JSON): Promise<LatestReport> {
  return JSON.parse(await readFile(path, 'utf8')) as LatestReport;
}

/** Rewrites the README's benchmark section from latest.json; true if the README changed. */
export async function updateReadme(
  readmePath = README,
  latestPath = LATEST_JSON,
): Promise<boolean> {
  const readme = await readFile(readmePath, 'utf8');
  const next = replaceBetweenMarkers(
    readme,
    await renderBenchSection(await readLatest(latestPath)),
  );
  if (next === readme) return false;
  await writeFile(readmePath, next);
  return true;
}
