// Writes the configuration table of docs/configuration.md from the config declarations
// (libs/queue-system/src/config), between <!-- config:start --> and <!-- config:end -->.
// Run with `npm run docs:config`; test/config.test.ts checks that the page is up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { OptionDeclarations } from '../libs/queue-system/src/config/config-section.js';
import { CONFIG_SECTIONS } from '../libs/queue-system/src/config/queue.config.js';

export const START_MARKER = '<!-- config:start -->';
export const END_MARKER = '<!-- config:end -->';

const HEADER = ['option', 'accepts', 'default', 'description'];

/** The table as prettier formats markdown: each column padded to its widest cell. */
export function renderConfigTable(): string {
  const rows = CONFIG_SECTIONS.flatMap(({ name, options }) => optionRows(name, options));
  const cells = [HEADER, ...rows].map((row) => row.map((cell) => cell.replaceAll('|', '\\|')));
  const widths = HEADER.map((_, column) => Math.max(3, ...cells.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const [header, ...body] = cells;
  return [line(header!), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join(
    '\n',
  );
}

/** One row per option, then the rows of the section it holds (`redis.sentinel.name`). */
function optionRows(path: string, options: OptionDeclarations): string[][] {
  return Object.entries(options).flatMap(([key, option]) => {
    const field = path ? `${path}.${key}` : key;
    const row = [
      `\`${field}\``,
      option.accepts,
      option.defaultText,
      option.secret
        ? `${option.description} Masked in \`toJSON()\` and in errors.`
        : option.description,
    ];
    const { nested } = option;
    if (!nested) return [row];
    const inner = nested.options as OptionDeclarations;
    return [row, ...optionRows(nested.list ? `${field}[]` : field, inner)];
  });
}

/** What lies between the markers, trimmed; `undefined` when they are missing. */
export function currentConfigTable(readme: string): string | undefined {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end < start) return undefined;
  return readme.slice(start + START_MARKER.length, end).trim();
}

/** The README with a fresh table between the markers; `undefined` when they are missing. */
export function withConfigTable(readme: string): string | undefined {
  if (currentConfigTable(readme) === undefined) return undefined;
  const start = readme.indexOf(START_MARKER) + START_MARKER.length;
  const end = readme.indexOf(END_MARKER);
  return `${readme.slice(0, start)}\n\n${renderConfigTable()}\n\n${readme.slice(end)}`;
}

function main(): void {
  const path = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
  const readme = readFileSync(path, 'utf8');
  const updated = withConfigTable(readme);
  if (updated === undefined) {
    console.error(
      `docs/configuration.md has no ${START_MARKER} ... ${END_MARKER} markers; nothing written.`,
    );
    console.log(renderConfigTable());
    process.exitCode = 1;
    return;
  }
  if (updated === readme) {
    console.log('docs/configuration.md: the configuration table is up to date.');
    return;
  }
  writeFileSync(path, updated);
  console.log('docs/configuration.md: configuration table rewritten.');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
