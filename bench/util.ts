import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';

/** Small helpers shared by the cases and tools: timing, statistics, bounded waits. */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a message naming `what` when `promise` has not settled after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Runs a full garbage collection when node was started with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
}

/** CPU time this process used since `since`, in seconds (user + system). */
export function nodeCpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Calls `task(i)` for i in [0, count) with at most `inFlight` calls pending at once. */
export async function runPool(
  count: number,
  inFlight: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

/** [0, 1, ..., count - 1] offset by `from`, in chunks of `size`. */
export function chunks(from: number, count: number, size: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < count; start += size) {
    const length = Math.min(size, count - start);
    out.push(Array.from({ length }, (_, i) => from + start + i));
  }
  return out;
}

/** Enqueues jobs [from, from + count) with the batch API, `inFlight` batches pending at once. */
export async function fillQueue(
  adapter: { enqueueBatch(ns: readonly number[]): Promise<void> },
  count: number,
  batchSize: number,
  from = 0,
  inFlight = 4,
): Promise<void> {
  const batches = chunks(from, count, batchSize);
  await runPool(batches.length, inFlight, (i) => adapter.enqueueBatch(batches[i]!));
}

/** The message of a thrown value alone (the library's `errorMessage` prefixes the error's name). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The redis-server every bench run and tool starts: AOF off (EmbeddedRedis passes `--save ''`). */
export const BENCH_REDIS_ARGS = ['--appendonly', 'no'];

export interface ToolRedis {
  url: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** A redis-server of its own in a temporary directory, for the bench run, a tool or a test. */
export async function startToolRedis(name: string): Promise<ToolRedis> {
  const dataDir = mkdtempSync(join(tmpdir(), `nqs-${name}-`));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  const server = new EmbeddedRedis({ dataDir, extraArgs: BENCH_REDIS_ARGS });
  try {
    await server.start();
  } catch (error) {
    removeDir();
    throw error;
  }
  return {
    url: server.url,
    async stop() {
      try {
        await server.stop();
      } finally {
        removeDir();
      }
    },
  };
}
