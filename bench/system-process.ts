import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SystemName } from './adapters/adapter.js';
import type { BenchConfig, Measurement } from './context.js';

/** What the parent sends: run a case once. */
export interface RunRequest {
  id: number;
  caseId: string;
}

/** What a system's process sends: that it is ready (its code loaded), or a run's result. */
export type RunnerMessage =
  | { ready: true }
  | { id: number; ok: true; measurement: Measurement }
  | { id: number; ok: false; error: string };

/** How the parent starts a system's process: everything it needs, in one environment variable. */
export interface SystemProcessSetup {
  system: SystemName;
  redisUrl: string;
  config: BenchConfig;
}

export const SETUP_ENV = 'BENCH_SYSTEM_SETUP';

const RUNNER = fileURLToPath(new URL('./system-runner.ts', import.meta.url));

/**
 * One Node process per system, kept for the whole run: a system's runs share its JIT state
 * and heap with its own earlier runs only. In one process, the systems' datasets, garbage
 * and compiled code (ours and BullMQ both drive ioredis) were every system's business.
 */
export class SystemProcess {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve(m: Measurement): void; reject(e: Error): void }
  >();
  private exited?: Error;
  /** Resolves once the process has loaded the bench and the systems' code. */
  readonly ready: Promise<void>;

  private constructor(
    readonly system: SystemName,
    private readonly child: ChildProcess,
  ) {
    let ready!: () => void;
    this.ready = new Promise((resolve) => (ready = resolve));
    child.on('message', (reply: RunnerMessage) => {
      if ('ready' in reply) return ready();
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.measurement);
      else waiter.reject(new Error(reply.error));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`${system}'s process exited (${signal ?? `code ${code}`})`);
      for (const waiter of this.pending.values()) waiter.reject(this.exited);
      this.pending.clear();
      ready();
    });
  }

  static start(setup: SystemProcessSetup): SystemProcess {
    const child = fork(RUNNER, [], {
      execArgv: ['--expose-gc', '--import', '@swc-node/register/esm-register'],
      env: { ...process.env, [SETUP_ENV]: JSON.stringify(setup) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new SystemProcess(setup.system, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(caseId: string): Promise<Measurement> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, caseId } satisfies RunRequest);
    });
  }

  /** Ends the process: it closes its connection; SIGKILL if it has not exited in 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** For the hard timeout and signals: no waiting. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** The processes of the systems of one bench run, all started (and loaded) before any run. */
export class SystemProcesses {
  private readonly processes = new Map<SystemName, SystemProcess>();

  static async start(
    systems: readonly SystemName[],
    redisUrl: string,
    config: BenchConfig,
  ): Promise<SystemProcesses> {
    const all = new SystemProcesses();
    for (const system of systems) {
      all.processes.set(system, SystemProcess.start({ system, redisUrl, config }));
    }
    await Promise.all([...all.processes.values()].map((p) => p.ready));
    return all;
  }

  of(system: SystemName): SystemProcess {
    const found = this.processes.get(system);
    if (!found) throw new Error(`no process for ${system}`);
    return found;
  }

  stop(): Promise<void[]> {
    return Promise.all([...this.processes.values()].map((p) => p.stop()));
  }

  kill(): void {
    for (const p of this.processes.values()) p.kill();
  }
}
