// Writes the option tables of the docs from the config declarations: every option of
// `QueueModule.forRoot` (libs/queue-system/src/config) in docs/configuration.md, the
// dashboard's in docs/dashboard.md and the metrics module's in docs/observability.md, each
// between its <!-- config...:start --> and <!-- config...:end --> markers.
// Run with `npm run docs:config`; test/config.test.ts checks that the pages are up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { OptionDeclarations } from '../libs/queue-system/src/config/config-section.js';
import { CONFIG_SECTIONS } from '../libs/queue-system/src/config/queue.config.js';
import {
  DASHBOARD_ROUTE_SECTION,
  DASHBOARD_SETTINGS_SECTION,
} from '../libs/queue-system/src/dashboard/dashboard.options.js';
import { METRICS_SECTION } from '../libs/queue-system/src/metrics/queue-metrics.options.js';

/** One generated table: the page it lives in, its markers and the sections it lists. */
export interface OptionTable {
  page: string;
  start: string;
  end: string;
  /** Its rows name each option from here: `redis.url`, but `pollInterval` for the dashboard. */
  root: string;
  sections: readonly { name: string; options: OptionDeclarations }[];
  /** What the table says of a secret option. */
  secretNote: string;
}

export const START_MARKER = '<!-- config:start -->';
export const END_MARKER = '<!-- config:end -->';

export const OPTION_TABLES: readonly OptionTable[] = [
  {
    page: 'docs/configuration.md',
    start: START_MARKER,
    end: END_MARKER,
    root: '',
    sections: CONFIG_SECTIONS,
    secretNote: 'Masked in `toJSON()` and in errors.',
  },
  {
    page: 'docs/dashboard.md',
    start: '<!-- config:dashboard:start -->',
    end: '<!-- config:dashboard:end -->',
    root: 'dashboard',
    sections: [DASHBOARD_ROUTE_SECTION, DASHBOARD_SETTINGS_SECTION],
    secretNote: 'Never shown in errors.',
  },
  {
    page: 'docs/observability.md',
    start: '<!-- config:metrics:start -->',
    end: '<!-- config:metrics:end -->',
    root: 'metrics',
    sections: [METRICS_SECTION],
    secretNote: 'Never shown in errors.',
  },
];

const CONFIG_TABLE = OPTION_TABLES[0]!;
const HEADER = ['option', 'accepts', 'default', 'description'];

/** The table as prettier formats markdown: each column padded to its widest cell. */
export function renderTable(table: OptionTable): string {
  const rows = table.sections.flatMap(({ name, options }) =>
    optionRows(relative(name, table.root), options, table.secretNote),
  );
  const cells = [HEADER, ...rows].map((row) => row.map((cell) => cell.replaceAll('|', '\\|')));
  const widths = HEADER.map((_, column) => Math.max(3, ...cells.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const [header, ...body] = cells;
  return [line(header!), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join(
    '\n',
  );
}

/** The table of docs/configuration.md. */
export function renderConfigTable(): string {
  return renderTable(CONFIG_TABLE);
}

function relative(name: string, root: string): string {
  if (name === root) return '';
  return root && name.startsWith(`${root}.`) ? name.slice(root.length + 1) : name;
}

/** One row per option, then the rows of the section it holds (`redis.sentinel.name`). */
function optionRows(path: string, options: OptionDeclarations, secretNote: string): string[][] {
  return Object.entries(options).flatMap(([key, option]) => {
    const field = path ? `${path}.${key}` : key;
    const row = [
      `\`${field}\``,
      option.accepts,
      option.defaultText,
      option.secret ? `${option.description} ${secretNote}` : option.description,
    ];
    const { nested } = option;
    if (!nested) return [row];
    const inner = nested.options as OptionDeclarations;
    return [row, ...optionRows(nested.list ? `${field}[]` : field, inner, secretNote)];
  });
}

/** What lies between a table's markers, trimmed; `undefined` when they are missing. */
export function currentTable(page: string, table: OptionTable = CONFIG_TABLE): string | undefined {
  const start = page.indexOf(table.start);
  const end = page.indexOf(table.end);
  if (start === -1 || end < start) return undefined;
  return page.slice(start + table.start.length, end).trim();
}

/** The configuration page's table (see `currentTable`). */
export function currentConfigTable(readme: string): string | undefined {
  return currentTable(readme, CONFIG_TABLE);
}

/** The page with a fresh table between the markers; `undefined` when they are missing. */
export function withTable(page: string, table: OptionTable = CONFIG_TABLE): string | undefined {
  if (currentTable(page, table) === undefined) return undefined;
  const start = page.indexOf(table.start) + table.start.length;
  const end = page.indexOf(table.end);
  return `${page.slice(0, start)}\n\n${renderTable(table)}\n\n${page.slice(end)}`;
}

function main(): void {
  for (const table of OPTION_TABLES) {
    const path = fileURLToPath(new URL(`../${table.page}`, import.meta.url));
    const page = readFileSync(path, 'utf8');
    const updated = withTable(page, table);
    if (updated === undefined) {
      console.error(
        `${table.page} has no ${table.start} ... ${table.end} markers; nothing written.`,
      );
      console.log(renderTable(table));
      process.exitCode = 1;
    } else if (updated === page) {
      console.log(`${table.page}: the option table is up to date.`);
    } else {
      writeFileSync(path, updated);
      console.log(`${table.page}: option table rewritten.`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
