import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildWorkerEntry, REPO_ROOT } from './build-worker.js';
import { READY } from './worker-protocol.js';
/** Kept per child so a failure can show what the child said last. */
const STDERR_TAIL_LINES = 40;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms since the child was spawned. */
  at: number;
}

/** Environment of one worker child; see `worker-process.ts` for every variable. */
export type WorkerEnv = Record<string, string | number>;

/** One worker child process: a Nest application context consuming the queue. */
export class WorkerChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The child's `QueueWorker.id`, known once it printed its ready line. */
  workerId?: string;
  /** Resolves with the worker id once the app has booted; rejects if the child exits first. */
  readonly ready: Promise<string>;
  /** Resolves when the child has exited, however it ended. */
  readonly exited: Promise<ChildExit>;
  readonly spawnedAt = performance.now();
  exit?: ChildExit;
  /** ms since spawn when the ready line came, and when the last signal was sent. */
  readyAt?: number;
  signalledAt?: number;
  private readonly stderrTail: string[] = [];

  constructor(
    readonly name: string,
    entry: string,
    env: WorkerEnv,
  ) {
    const child = spawn(process.execPath, [entry], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      },
      // stdin stays open for the child's life: the child exits when it closes (we died).
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`${name}: could not spawn ${entry}`);
    this.process = child;
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: performance.now() - this.spawnedAt };
        resolve(this.exit);
      });
    });
    // Always drained: a child writing to a full pipe would block.
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
    const lines = createInterface({ input: child.stdout! });
    this.ready = new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        if (!line.startsWith(READY)) return;
        this.workerId = line.slice(READY.length).trim();
        this.readyAt = performance.now() - this.spawnedAt;
        resolve(this.workerId);
      });
      void this.exited.then((exit) =>
        reject(
          new Error(
            `${this.name} (pid ${this.pid}) exited before it was ready (code ${exit.code}, signal ${exit.signal})\n${this.stderr()}`,
          ),
        ),
      );
    });
    // A child killed before it was ready is not an error of the test by itself.
    this.ready.catch(() => undefined);
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get isReady(): boolean {
    return this.workerId !== undefined && this.alive;
  }

  /** The child's last log lines (stderr), for failure messages. */
  stderr(): string {
    return this.stderrTail.map((line) => `  | ${line}`).join('\n');
  }

  /** Sends `signal` and waits (bounded) for the exit. */
  async kill(signal: NodeJS.Signals, timeoutMs = 10_000): Promise<ChildExit> {
    if (this.exit) return this.exit;
    this.signalledAt = performance.now() - this.spawnedAt;
    this.process.kill(signal);
    return within(this.exited, timeoutMs, `${this.name} (pid ${this.pid}) to exit after ${signal}`);
  }

  /** Waits (bounded) for the ready line. */
  awaitReady(timeoutMs = 20_000): Promise<string> {
    return within(this.ready, timeoutMs, `${this.name} (pid ${this.pid}) to be ready`, () =>
      this.stderr(),
    );
  }
}

/**
 * Spawns worker children from one compiled entry and owns them: `killAll()` (in afterAll)
 * SIGKILLs every child still alive, so no test leaves a process behind.
 */
export class ProcessFleet {
  private readonly entry = buildWorkerEntry();
  readonly children: WorkerChild[] = [];
  private spawned = 0;
  /** While set, a child that exits is replaced at once, as a process supervisor would. */
  private supervisedSize = 0;

  constructor(private readonly baseEnv: WorkerEnv) {}

  spawn(env: WorkerEnv = {}, name = `worker-${++this.spawned}`): WorkerChild {
    const child = new WorkerChild(name, this.entry, { ...this.baseEnv, ...env });
    this.children.push(child);
    void child.exited.then(() => {
      if (this.alive().length < this.supervisedSize) this.spawn(env);
    });
    return child;
  }

  /** Starts `size` children and replaces each one that exits, until `stopSupervising()`. */
  supervise(size: number, env: WorkerEnv = {}): void {
    this.supervisedSize = size;
    while (this.alive().length < size) this.spawn(env);
  }

  stopSupervising(): void {
    this.supervisedSize = 0;
  }

  alive(): WorkerChild[] {
    return this.children.filter((child) => child.alive);
  }

  ready(): WorkerChild[] {
    return this.children.filter((child) => child.isReady);
  }

  async killAll(): Promise<void> {
    this.stopSupervising();
    await Promise.all(this.alive().map((child) => child.kill('SIGKILL').catch(() => undefined)));
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export async function within<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  details?: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${what}${details ? `\n${details()}` : ''}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
