import Table from 'cli-table3';

/** What every command prints through: stdout for results, stderr for the rest. */
export interface Output {
  json: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A note for the person at the terminal, kept off stdout so scripts parse only results. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

type Cell = string | number | undefined;

/** A table as cli-table3 draws it; colours off, so that piped output stays plain text. */
export function renderTable(head: readonly string[], rows: readonly Cell[][]): string {
  const table = new Table({ head: [...head], style: { head: [], border: [], compact: true } });
  for (const row of rows) table.push(row.map((cell) => (cell === undefined ? '' : String(cell))));
  return table.toString();
}

/** A two-column table of names and values. */
export function renderPairs(pairs: readonly [string, Cell][]): string {
  const table = new Table({ style: { head: [], border: [], compact: true } });
  for (const [name, value] of pairs) {
    table.push({ [name]: value === undefined ? '' : String(value) });
  }
  return table.toString();
}

export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

/** `1h 02m`, `3m 05s`, `4.2s`, `120ms`. */
export function duration(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The first line of a text, cut to `width` characters. */
export function firstLine(text: string | undefined, width = 60): string | undefined {
  if (text === undefined) return undefined;
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
