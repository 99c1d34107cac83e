import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../libs/queue-system/src/index.js';
import { CLI_COMMAND, REPO_ROOT } from './support/cli-runner.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

const hasTmux = () => spawnSync('sh', ['-c', 'command -v tmux'], { stdio: 'ignore' }).status === 0;

/** tmux comes with the set-up, as redis-server does; install it when this machine lacks it. */
function ensureTmux(): void {
  if (!hasTmux()) execFileSync('node', ['scripts/setup.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (!hasTmux()) throw new Error('tmux is missing: run `node scripts/setup.mjs`');
}

/** The row of queue `mail`, paused, with `total` normal-priority jobs waiting. */
const row = (total: number) =>
  new RegExp(`mail\\s+│ 0\\s+│ ${total}\\s+│ 0\\s+│ ${total}\\s+│ yes`);

function quote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

describe('nest-queue in a real terminal (tmux)', () => {
  // A tmux server of this test's own, on its own socket: nobody else's sessions are touched.
  const socket = `nqs-cli-watch-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const screen = (session = 'watch') => tmux('capture-pane', '-p', '-t', session);
  let app: QueueTestApp;
  let folder: string;

  beforeAll(async () => {
    ensureTmux();
    app = await createQueueApp([], {
      redis: { keyPrefix: uniquePrefix('cli-watch') },
      worker: { autoStart: false },
      jobs: [defineJob('cli.mail')],
    });
    folder = mkdtempSync(join(tmpdir(), 'nqs-cli-watch-'));
  });
  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    rmSync(folder, { recursive: true, force: true });
    await app?.close();
  });

  /** Runs the command in a new tmux session; resolves the file its exit code goes to. */
  function runInTerminal(session: string, args: string[]): () => string {
    const exitFile = join(folder, `${session}.exit`);
    const connection = ['--redis', redisUrl(), '--prefix', app.keyPrefix];
    const command = [...CLI_COMMAND, ...args, ...connection].map(quote).join(' ');
    // The pane stays after the command (until the tmux server is killed): its last screen is read.
    const shell = `NO_COLOR=1 ${command}; echo $? > ${quote(exitFile)}; sleep 120`;
    tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '50', '-c', REPO_ROOT, shell);
    return () => {
      try {
        return readFileSync(exitFile, 'utf8').trim();
      } catch {
        return '';
      }
    };
  }

  it('asks before purging: n keeps the jobs, y purges them behind a progress bar', async () => {
    await app.queue.enqueueBatch({
      entities: Array.from({ length: 3_000 }, (_, i) => i),
      processor: 'cli.mail',
      queueName: 'bulk',
    });
    const declined = runInTerminal('no', ['purge', 'bulk']);
    await waitFor(() => /\[y\/N\]/.test(screen('no')), 'the question', 30_000);
    expect(screen('no')).toMatch(/Delete the 3000 waiting jobs of queue bulk\?/);
    tmux('send-keys', '-t', 'no', 'n', 'Enter');
    await waitFor(() => declined() !== '', 'the command to end', 15_000);
    expect(declined()).toBe('4');
    expect((await app.queue.getJobCounts()).waiting).toBe(3_000);

    const purged = runInTerminal('yes', ['purge', 'bulk']);
    await waitFor(() => /\[y\/N\]/.test(screen('yes')), 'the question', 30_000);
    tmux('send-keys', '-t', 'yes', 'y', 'Enter');
    await waitFor(() => purged() !== '', 'the purge to end', 30_000);
    expect(purged()).toBe('0');
    expect(screen('yes')).toMatch(/purging bulk \[.*\] 3000\/3000/);
    expect((await app.queue.getJobCounts()).waiting).toBe(0);
  });

  it('refreshes its table in place as the counts change, and quits on q', async () => {
    const exited = runInTerminal('watch', ['watch', '--interval', '200']);
    await waitFor(
      () => /nest-queue watch: namespace default/.test(screen()),
      'the first frame',
      30_000,
    );

    await app.queue.pauseQueue('mail');
    await app.queue.enqueueBatch({ entities: [1, 2, 3], processor: 'cli.mail', queueName: 'mail' });
    await waitFor(() => row(3).test(screen()), 'mail with 3 waiting jobs', 15_000);
    await app.queue.enqueueBatch({ entities: [4, 5], processor: 'cli.mail', queueName: 'mail' });
    await waitFor(() => row(5).test(screen()), 'mail with 5 waiting jobs', 15_000);

    // In place: one frame on the screen, nothing scrolled into the history.
    const shown = screen();
    expect(shown.match(/nest-queue watch: namespace default/g)).toHaveLength(1);
    expect(shown).toMatch(/enqueued\/s/);
    expect(tmux('display-message', '-p', '-t', 'watch', '#{history_size}').trim()).toBe('0');

    tmux('send-keys', '-t', 'watch', 'q');
    await waitFor(() => exited() !== '', 'watch to exit on q', 15_000);
    expect(exited()).toBe('0');
  });
});
