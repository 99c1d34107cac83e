import type { Redis } from 'ioredis';

/** One reading of the counters a case compares: commands, CPU and memory of the redis-server. */
export interface RedisSnapshot {
  /** Calls per command (`INFO commandstats`), the INFO command itself left out. */
  calls: Record<string, number>;
  /** used_cpu_sys + used_cpu_user, seconds. */
  cpuSeconds: number;
  /** Time spent running scripts (EVAL, EVALSHA), the commands they call included, µs. */
  scriptUsec: number;
  /** used_memory, bytes. */
  usedMemory: number;
  /** used_memory_dataset, bytes (used_memory less Redis's own overhead). */
  usedMemoryDataset: number;
  /** total_net_input_bytes / total_net_output_bytes: what clients sent and received. */
  netInBytes: number;
  netOutBytes: number;
}

export interface RedisDelta extends RedisSnapshot {
  /** All calls between two snapshots, the commands run inside scripts included. */
  commands: number;
}

/** Parses an INFO reply into field -> value (section headers and blank lines skipped). */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/** `cmdstat_hset` -> `calls=12,usec=...` becomes { hset: 12 }; the INFO command is left out. */
export function parseCommandStats(fields: Record<string, string>): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!key.startsWith('cmdstat_')) continue;
    const name = key.slice('cmdstat_'.length);
    if (name === 'info') continue;
    const match = /(?:^|,)calls=(\d+)/.exec(value);
    if (match) calls[name] = Number(match[1]);
  }
  return calls;
}

const SCRIPT_COMMANDS = [
  'cmdstat_eval',
  'cmdstat_evalsha',
  'cmdstat_eval_ro',
  'cmdstat_evalsha_ro',
];

/** The `usec` of the script commands: what Redis spends inside scripts, I/O left out. */
export function scriptUsec(fields: Record<string, string>): number {
  let usec = 0;
  for (const name of SCRIPT_COMMANDS) {
    const match = /(?:^|,)usec=(\d+)/.exec(fields[name] ?? '');
    if (match) usec += Number(match[1]);
  }
  return usec;
}

/** One INFO call for the four sections, so a snapshot costs one round trip. */
export async function snapshot(redis: Redis): Promise<RedisSnapshot> {
  const fields = parseInfo(await redis.info('cpu', 'memory', 'stats', 'commandstats'));
  return {
    calls: parseCommandStats(fields),
    cpuSeconds: Number(fields.used_cpu_sys) + Number(fields.used_cpu_user),
    scriptUsec: scriptUsec(fields),
    usedMemory: Number(fields.used_memory),
    usedMemoryDataset: Number(fields.used_memory_dataset),
    netInBytes: Number(fields.total_net_input_bytes),
    netOutBytes: Number(fields.total_net_output_bytes),
  };
}

export function diff(before: RedisSnapshot, after: RedisSnapshot): RedisDelta {
  const calls: Record<string, number> = {};
  let commands = 0;
  for (const [name, count] of Object.entries(after.calls)) {
    const delta = count - (before.calls[name] ?? 0);
    if (delta <= 0) continue;
    calls[name] = delta;
    commands += delta;
  }
  return {
    commands,
    calls,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    scriptUsec: after.scriptUsec - before.scriptUsec,
    usedMemory: after.usedMemory - before.usedMemory,
    usedMemoryDataset: after.usedMemoryDataset - before.usedMemoryDataset,
    netInBytes: after.netInBytes - before.netInBytes,
    netOutBytes: after.netOutBytes - before.netOutBytes,
  };
}

export async function redisVersion(redis: Redis): Promise<string> {
  return parseInfo(await redis.info('server')).redis_version ?? 'unknown';
}

/** Calls per job of each command, most called first, rounded to 3 decimals. */
export function callsPerJob(delta: RedisDelta, jobs: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(delta.calls)
      .sort(([, a], [, b]) => b - a)
      .map(([name, calls]) => [name, Math.round((calls / jobs) * 1000) / 1000]),
  );
}

/**
 * The Redis side of a measured window, per job: commands, CPU time (and of it, the time
 * inside scripts) and bytes sent.
 */
export function redisCostPerJob(delta: RedisDelta, jobs: number) {
  return {
    commandsPerJob: delta.commands / jobs,
    redisCpuUsPerJob: (delta.cpuSeconds / jobs) * 1e6,
    scriptUsPerJob: delta.scriptUsec / jobs,
    netInBytesPerJob: delta.netInBytes / jobs,
  };
}
