import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import { CliError, EXIT } from './cli-errors.js';

/**
 * Asks before a destructive action. In a terminal the person answers; without one (a script,
 * a pipe) nobody can, so the command needs `--yes` rather than a guess.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new CliError(`${question} Refusing without a terminal: pass --yes`, EXIT.usage);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Nothing done.', EXIT.declined);
  } finally {
    prompt.close();
  }
}

/** Progress of a long operation on stderr, drawn only when stderr is a terminal. */
export interface Progress {
  advance(by: number): void;
  stop(): void;
}

/** Below this many items an operation ends before a bar would be worth drawing. */
const PROGRESS_THRESHOLD = 1000;

export function startProgress(label: string, total: number): Progress {
  if (!process.stderr.isTTY || total < PROGRESS_THRESHOLD) return { advance() {}, stop() {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  });
  bar.start(total, 0);
  return {
    advance: (by) => bar.increment(by),
    stop: () => bar.stop(),
  };
}
