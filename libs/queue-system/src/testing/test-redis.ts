import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueError } from '../errors.js';

export interface TestRedisOptions {
  /** How long `redis-server` may take to accept connections (ms, default 10,000). */
  startTimeout?: number;
}

const INSTALL_HINT =
  'install Redis so that `redis-server` is on PATH (apt-get install redis-server, brew install redis), or pass a redisUrl';

/**
 * A throwaway `redis-server` on 127.0.0.1 for a test suite: no persistence, its own temporary
 * folder, removed by `stop()`. The process never holds the test runner open, and dies with it
 * if `stop()` was never called.
 */
export class TestRedis {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private dir = '';
  private readonly killOnExit = () => this.child?.kill('SIGKILL');
  port = 0;

  constructor(private readonly options: TestRedisOptions = {}) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.dir ||= mkdtempSync(join(tmpdir(), 'nqs-test-redis-'));
    // A free port may be taken by another process before redis-server binds it: try again.
    for (let tries = 1; ; tries++) {
      this.port = await findFreePort();
      try {
        await this.spawnAndWait();
        return this;
      } catch (error) {
        await this.halt();
        const taken = error instanceof QueueError && /in use/i.test(error.message);
        if (!taken || tries === 3) {
          this.removeDir();
          throw error;
        }
      }
    }
  }

  /** Stops the server and removes its folder; resolves once the process has exited. */
  async stop(): Promise<void> {
    await this.halt();
    this.removeDir();
  }

  private async halt(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      // Held again while it stops: the suite may have nothing else keeping it alive.
      child.ref();
      child.kill('SIGTERM');
      await this.exited;
    }
    process.off('exit', this.killOnExit);
    this.child = undefined;
  }

  private removeDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }

  private async spawnAndWait(): Promise<void> {
    const logFile = join(this.dir, 'redis.log');
    // Persistence off: a test's data must not outlive it, nor cost a disk write per job.
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    args.push('--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction');
    args.push('--daemonize', 'no', '--logfile', logFile, '--loglevel', 'warning');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    let spawnError: NodeJS.ErrnoException | undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        spawnError = error;
        resolve();
      });
      child.once('exit', () => resolve());
    });
    child.unref();
    process.once('exit', this.killOnExit);
    const deadline = Date.now() + (this.options.startTimeout ?? 10_000);
    while (!(await canConnect(this.port))) {
      if (spawnError?.code === 'ENOENT') {
        throw new QueueError(`redis-server was not found: ${INSTALL_HINT}`);
      }
      if (spawnError || child.exitCode !== null || Date.now() > deadline) {
        const log = spawnError?.message ?? readLog(logFile);
        throw new QueueError(`redis-server did not start on port ${this.port}: ${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Starts a throwaway `redis-server`; `stop()` it when the suite ends. */
export function startTestRedis(options?: TestRedisOptions): Promise<TestRedis> {
  return new TestRedis(options).start();
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim() || 'no log';
  } catch {
    return 'no log';
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
