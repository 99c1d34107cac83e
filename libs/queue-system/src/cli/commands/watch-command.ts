import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { describeFailure, integerOption } from '../cli-errors.js';
import type { QueueSession } from '../queue-session.js';
import { withSession } from '../session-action.js';
import { readSnapshot, renderFrame, type Snapshot } from './watch-frame.js';

interface WatchOptions {
  interval: string;
}

/**
 * Where frames go. In a terminal: the alternate screen, redrawn from its top left corner line
 * by line, so the table stays in place without flicker and the shell's screen comes back at
 * the end; elsewhere (a pipe, a file): one frame after another.
 */
class WatchScreen {
  private readonly tty = process.stdout.isTTY === true;

  open(): void {
    if (this.tty) process.stdout.write('\x1b[?1049h\x1b[?25l');
  }

  draw(frame: string): void {
    if (!this.tty) {
      process.stdout.write(`${frame}\n\n`);
      return;
    }
    const lines = frame.split('\n').map((line) => `${line}\x1b[K`);
    process.stdout.write(`\x1b[H${lines.join('\n')}\n\x1b[J`);
  }

  close(): void {
    if (this.tty) process.stdout.write('\x1b[?25h\x1b[?1049l');
  }
}

/** Aborts on `q`, Ctrl-C (raw mode turns it into a key) or a signal. */
function stopControl(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const onKey = (data: Buffer) => {
    const key = data.toString('utf8');
    if (key === 'q' || key === 'Q' || key === '\x03') stop();
  };
  const raw = process.stdin.isTTY === true;
  if (raw) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey);
    process.stdin.resume();
  }
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const dispose = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (!raw) return;
    process.stdin.off('data', onKey);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  };
  return { signal: controller.signal, dispose };
}

async function watch(session: QueueSession, options: WatchOptions): Promise<void> {
  const intervalMs = integerOption('--interval', options.interval, 100);
  const { manager } = session;
  const info = { namespace: manager.namespace, intervalMs };
  // The first read fails the command (exit code 3 when Redis is away); later ones only warn.
  let last: Snapshot = await readSnapshot(manager);
  let before: Snapshot | undefined;
  const screen = new WatchScreen();
  const control = stopControl();
  screen.open();
  try {
    screen.draw(renderFrame(last, before, info));
    while (!control.signal.aborted) {
      await delay(intervalMs, undefined, { signal: control.signal }).catch(() => undefined);
      if (control.signal.aborted) break;
      try {
        [before, last] = [last, await readSnapshot(manager)];
        screen.draw(renderFrame(last, before, info));
      } catch (error) {
        const [, reason] = describeFailure(error, session.shownUrl);
        screen.draw(
          renderFrame(last, undefined, {
            ...info,
            problem: `${reason}; retrying`,
          }),
        );
      }
    }
  } finally {
    screen.close();
    control.dispose();
  }
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('a live table of counts and rates, refreshed in place until q or Ctrl-C')
    .option('--interval <ms>', 'time between refreshes', '1000')
    .action(withSession<WatchOptions>((session, _args, options) => watch(session, options)));
}
