import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

export interface EmbeddedRedisOptions {
  /** Folder for the AOF and RDB files; created when missing. */
  dataDir: string;
  /** Loopback port; a free one is picked when omitted. */
  port?: number;
  /** `appendfsync` policy; `everysec` loses at most about a second of writes on a crash. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /**
   * Own process group, so a terminal's Ctrl-C reaches only the app, which stops Redis last,
   * after its queue connections are closed.
   */
  detached?: boolean;
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  extraArgs?: string[];
}

/**
 * A `redis-server` child process on 127.0.0.1, for the demo app and the test suite.
 * Durable by default (AOF, noeviction) because a queue must not lose acknowledged jobs.
 */
export class EmbeddedRedis {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  port = 0;

  constructor(private readonly options: EmbeddedRedisOptions) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The redis-server's pid while it runs; undefined before start and once it has exited. */
  get pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async start(): Promise<this> {
    this.port = this.port || this.options.port || (await findFreePort());
    mkdirSync(this.options.dataDir, { recursive: true });
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.options.dataDir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      this.options.appendfsync ?? 'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--loglevel',
      'warning',
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn('redis-server', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: this.options.detached ?? false,
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${this.port}: ${stderr.trim()}`);
      }
      await sleep(20);
    }
    return this;
  }

  /** Graceful stop (SIGTERM); resolves once the process has exited. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Abrupt stop (SIGKILL), as a crash would do. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
  }
}

export async function findFreePort(): Promise<number> {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
