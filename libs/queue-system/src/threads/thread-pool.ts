import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { JobProgress } from '../events/queue-event.js';
import type { QueueConfig } from '../config/index.js';
import { QueueError } from '../errors.js';
import { libraryFile } from '../library-root.js';
import { reviveError } from './thread-error.js';
import type { ThreadJobContext, ThreadOutcome, ThreadTask } from './thread-task.js';

/** Every thread is busy and the pool's short queue is full: the job is put back for later. */
export class ThreadPoolExhaustedError extends QueueError {
  constructor(readonly size: number) {
    super(`Thread pool exhausted: all ${size} thread(s) busy and the pool's queue full`);
  }
}

const RUNNER = libraryFile('threads/thread-runner.mjs');

/**
 * The worker-thread pool for CPU-bound processors (piscina): `threadPoolSize` threads, made
 * on first use, shared by every thread processor of the process. A task whose signal aborts
 * (timeout, shutdown) has its thread terminated and replaced, so stuck work really stops.
 */
export class ThreadPool {
  private pool?: Piscina<ThreadTask, ThreadOutcome>;
  /** Tasks running or waiting for a thread: at most one wait per thread, then jobs go back. */
  private inFlight = 0;

  /** Set when a thread module is TypeScript: its threads then load the TypeScript loader. */
  private needsTypeScriptLoader = false;

  constructor(private readonly config: QueueConfig) {}

  /** Notes a thread module before first use, so threads start with what it needs. */
  addModule(moduleUrl: string): void {
    if (/\.[cm]?ts$/.test(new URL(moduleUrl).pathname)) this.needsTypeScriptLoader = true;
  }

  get size(): number {
    return this.config.worker.threadPoolSize;
  }

  /** Tasks the pool takes at once: one running per thread and one waiting per thread. */
  get capacity(): number {
    return this.size * 2;
  }

  /** Percentage of the pool's capacity in use since it started (0 before first use). */
  get utilization(): number {
    return this.pool ? Math.round(this.pool.utilization * 10_000) / 100 : 0;
  }

  /** Tasks waiting for a free thread. */
  get queued(): number {
    return this.pool?.queueSize ?? 0;
  }

  /** Threads alive right now. */
  get threadCount(): number {
    return this.pool?.threads.length ?? 0;
  }

  /** Runs a task in a thread; its progress reports reach `onProgress` before this resolves. */
  async run(
    moduleUrl: string,
    processor: string,
    entity: unknown,
    context: Omit<ThreadJobContext, 'progress'>,
    signal: AbortSignal,
    onProgress: (progress: JobProgress) => Promise<void>,
  ): Promise<unknown> {
    const pool = this.start();
    // Counted here rather than by piscina's maxQueue, which is not enforced while threads boot.
    if (this.inFlight >= this.capacity) throw new ThreadPoolExhaustedError(this.size);
    this.inFlight++;
    const { port1, port2 } = new MessageChannel();
    let outcome: ThreadOutcome;
    try {
      const ended = progressOf(port1, onProgress);
      const task = { moduleUrl, processor, entity, context, progressPort: port2 };
      // An aborted task rejects with an AbortError; the caller already knows why it aborted.
      outcome = await pool.run(task, { signal, transferList: [port2] });
      // The thread's last message comes on another channel than its result: wait for it, and
      // for its last report to be stored, so that the job's outcome comes after its progress.
      await ended;
    } finally {
      port1.close();
      this.inFlight--;
    }
    if (!outcome.ok) throw reviveError(outcome.error);
    return outcome.result;
  }

  async destroy(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }

  private start(): Piscina<ThreadTask, ThreadOutcome> {
    this.pool ??= new Piscina<ThreadTask, ThreadOutcome>({
      filename: RUNNER.href,
      minThreads: this.size,
      maxThreads: this.size,
      idleTimeout: 60_000,
      // Development only: TypeScript thread modules run through @swc-node/register. Compiled
      // JavaScript (or .mjs) modules start threads far quicker.
      execArgv: this.needsTypeScriptLoader ? ['--import', '@swc-node/register/esm-register'] : [],
    });
    return this.pool;
  }
}

/**
 * Hands each report on `port` to `onProgress`; resolves at the thread's end of progress, once
 * the last report is handled (which settles after every earlier one).
 */
function progressOf(port: MessagePort, onProgress: (progress: JobProgress) => Promise<void>) {
  let last: Promise<void> = Promise.resolve();
  return new Promise<void>((resolve) => {
    port.on('message', (message: { progress: JobProgress } | { end: true }) => {
      if ('end' in message) resolve(last);
      else last = onProgress(message.progress);
    });
  });
}
