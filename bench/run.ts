/**
 * `npm run bench [-- --quick]`: our queue, BullMQ and Bee-Queue on one redis-server started
 * here (AOF off), one system after the other, FLUSHALL before every run, each case repeated
 * with the systems interleaved (ours, bullmq, bee-queue, ours, ...). Each system runs in a
 * Node process of its own (`system-process.ts`); this one only schedules and reports. Prints
 * a table of medians, writes bench/results/latest.json and bench/results/throughput.svg, and
 * after a full run rewrites the README's benchmark table from them (`readme-table.ts`).
 *
 * Bounded: repetitions after the first run only while they fit in the time budget (cases
 * with a target first), a hard timeout prints what it has and exits non-zero, and
 * redis-server is stopped at the end and on SIGINT/SIGTERM.
 *
 * The processing cases with a target also run two reference loops (`adapters/bare-lua.ts`),
 * printed in a table of their own: what the design allows on this machine.
 *
 * Options: --quick (small smoke run), --only <case id part>, --reps <n>, --systems a,b (the
 * reference loops are systems too), --metrics (ours with its Prometheus metrics on), --shards <n>
 * (ours with its namespace spread over n shards, on the one redis-server); these
 * write bench/results/partial.json instead of
 * latest.json. An opt-in case (the rate-limited row) runs only when --only gives the start of
 * its id.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { ALL_SYSTEMS, isReference, SYSTEMS, type SystemName } from './adapters/adapter.js';
import { formatCount, type CaseRun } from './cases/case.js';
import { COST_CONCURRENCY } from './cases/cost.js';
import { caseRuns, CASES, selectedRuns } from './cases/index.js';
import { processCaseId } from './cases/processing.js';
import { FULL, QUICK, type BenchConfig } from './context.js';
import { README, updateReadme } from './readme-table.js';
import { redisVersion } from './redis-stats.js';
import { SystemProcesses } from './system-process.js';
import { BENCH_REDIS_ARGS, errorMessage, startToolRedis, type ToolRedis } from './util.js';
import {
  buildRows,
  formatReferenceTable,
  formatTable,
  throughputSvg,
  writeJson,
  writeSvg,
  type Sample,
} from './report.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const SETTINGS: Record<SystemName, string> = {
  ours:
    'nest-queue-system through Nest (QueueModule.forRoot, @Processor, QueueWorker.start) with every safety on: ' +
    'leases + heartbeat + stalled-job recovery, metrics hash in Redis, retries configured (exponential, 5 attempts, 1 h budget), ' +
    'circuit breaker and timeout around every Redis call, per-attempt timeout; an @OnSuccess callback attached to every job ' +
    '(the bench counts completions in it). A completed job is deleted at once (redis.backupTtl 0), as the peers do, ' +
    'so the bench jobs (nothing of their own but a spec) are stored as compact jobs (docs/architecture.md); ' +
    'in the default-retention row backupTtl is left at its default (7 days), so each job has a job hash, kept once completed; ' +
    'no safety setting is turned off in any row.',
  bullmq:
    'BullMQ Queue + Worker: removeOnComplete/removeOnFail true on every job ({count: 0} on the worker), ' +
    'left unset (every job kept, the default) in the default-retention row; ' +
    'events stream capped with streams.events.maxLen 0 (BullMQ cannot switch events off); worker metrics off (default); ' +
    'locks, lock renewal and stalled check on (default); ioredis maxRetriesPerRequest null. ' +
    'Completions counted from the worker\'s local "completed" event.',
  'bee-queue':
    'Bee-Queue: removeOnSuccess, removeOnFailure (false, the default, in the default-retention row), ' +
    'getEvents false, sendEvents false, storeJobs false, ' +
    'activateDelayedJobs false; queue.process(concurrency, handler); stall protection as by default. ' +
    'Completions counted from the local "succeeded" event.',
  'lua-job-hash':
    'Reference loop, not a queue (bench/adapters/bare-lua.ts): plain ioredis and one Lua script that acks the completed jobs ' +
    'and fetches the next in one call, two calls in flight from concurrency 8; one hash per job with spec, state, lease ' +
    'token and attempts, leases in a sorted set, completed jobs deleted. Nothing else: no Nest, call policy, retries, ' +
    'timeouts, callbacks, heartbeat, stalled-job recovery, priorities or limits.',
  'lua-shared-hash':
    'Reference loop, as lua-job-hash but with no key per job: specs, lease tokens and attempts in one hash each, every ' +
    'command of a call covering the whole batch.',
};

type Outcome = 'done' | 'timeout' | 'interrupted';

interface RunState {
  config: BenchConfig;
  startedAt: number;
  samples: Sample[];
  failures: { caseId: string; system: SystemName; rep: number; error: string }[];
  /** Repetitions left out because they would not have ended within the time budget. */
  skipped: { caseId: string; rep: number }[];
  meta: Record<string, unknown>;
  finished: boolean;
  /** --quick, --only or --reps: results go to partial.json, not latest.json. */
  partialSelection: boolean;
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function revision(state: RunState): string {
  const source = state.meta.source as { commit: string; libsModified: boolean } | undefined;
  if (!source) return 'commit unknown';
  return `commit ${source.commit}${source.libsModified ? ' + uncommitted changes in libs/' : ''}`;
}

function loadAtStart(state: RunState): string {
  const load = state.meta.loadAverageAtStart as number[] | undefined;
  return load ? load.map((n) => n.toFixed(2)).join(' ') : '?';
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

async function report(state: RunState, outcome: Outcome): Promise<boolean> {
  const { config } = state;
  // An opt-in case's rows only where it ran: never in the full run's table.
  const optIn = new Set(
    caseRuns(config)
      .filter((run) => run.optIn)
      .map((run) => run.id),
  );
  const specs = CASES.flatMap((c) => c.rows(config)).filter(
    (spec) => !optIn.has(spec.caseId) || state.samples.some((s) => s.caseId === spec.caseId),
  );
  const rows = buildRows(specs, state.samples);
  let reduced = false;
  for (const row of rows) {
    const counts = SYSTEMS.map((s) => row.values[s]?.length ?? 0);
    if (counts.some((n) => n < config.reps)) {
      row.label += ` [reps ${counts.join('/')}]`;
      reduced = true;
    }
  }
  const elapsed = Date.now() - state.startedAt;
  const out: string[] = [''];
  out.push(
    `nest-queue-system vs BullMQ vs Bee-Queue${config.quick ? ' (--quick smoke run: the numbers mean nothing)' : ''}`,
  );
  out.push(
    `${String(state.meta.redis)}; ${String(state.meta.node)}; ${String(state.meta.cpu)}; ` +
      `load average at start ${loadAtStart(state)}; ${revision(state)}; ` +
      `medians of up to ${config.reps} interleaved repetitions; ${seconds(elapsed)} s`,
  );
  if (outcome !== 'done') {
    out.push(
      `PARTIAL RESULTS: the run was ${outcome === 'timeout' ? 'stopped by the hard timeout' : 'interrupted'}.`,
    );
  }
  out.push('', formatTable(rows));
  const references = formatReferenceTable(rows);
  if (references) {
    out.push('', 'Reference loops, in the same run (what the design allows on this machine):', '');
    out.push(references);
  }
  out.push('', 'Notes:');
  for (const system of ALL_SYSTEMS) out.push(`- ${system}: ${SETTINGS[system]}`);
  out.push(
    '- FLUSHALL before every run. Processing: the jobs are enqueued with the batch API once per system, ' +
      'kept with DUMP and RESTOREd before each processing run (not timed); ' +
      `each run's consumer first completes at least ${formatCount(config.processWarmupJobs)} warm-up jobs and runs for ` +
      `at least ${seconds(config.processWarmupMs)} s, then jobs/s = jobs / (window open -> that many completions later); ` +
      'every case with a warm-up forces a garbage collection before it. ' +
      `Each system runs in a Node process of its own, the same for all its runs. Before the first repetition ` +
      `every system runs the concurrency-${COST_CONCURRENCY} case, not counted, again and again for ` +
      `${seconds(config.warmupRoundMs)} s (at least once), so that no system is measured while its process ` +
      'compiles its code for the first time. ' +
      `The cost rows come from the same window of the concurrency-${COST_CONCURRENCY} runs.`,
  );
  if (reduced) {
    out.push(
      `- [reps a/b/c]: repetitions of ours/bullmq/bee-queue in that row, fewer than ${config.reps}: ` +
        `after the first repetition of every case, later ones run (cases with a target first, concurrency 1 last) ` +
        `only while they end within the ${seconds(config.budgetMs)} s budget, leaving room for the repetitions ` +
        'still to come of the cases before them.',
    );
  }
  for (const row of rows) for (const note of row.notes) out.push(`- ${row.label}: ${note}`);
  const costSamples = state.samples.filter((s) => s.caseId === processCaseId(COST_CONCURRENCY));
  if (costSamples.length > 0) {
    out.push(
      `- Redis commands per processed job at concurrency ${COST_CONCURRENCY} (last repetition):`,
    );
    for (const system of ALL_SYSTEMS) {
      const last = costSamples.filter((s) => s.system === system).at(-1);
      const calls = (last?.detail?.callsPerJob ?? {}) as Record<string, number>;
      const top = Object.entries(calls)
        .filter(([, n]) => n >= 0.001)
        .slice(0, 12)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ');
      out.push(`    ${system}: ${top || '-'}`);
    }
  }
  if (state.failures.length > 0) {
    out.push('Failed runs:');
    for (const f of state.failures)
      out.push(`- ${f.caseId} ${f.system} rep ${f.rep + 1}: ${f.error}`);
  }

  const name = state.partialSelection ? 'partial' : 'latest';
  const jsonPath = join(RESULTS_DIR, `${name}.json`);
  const svgPath = join(
    RESULTS_DIR,
    name === 'latest' ? 'throughput.svg' : `${name}-throughput.svg`,
  );
  await writeJson(jsonPath, {
    ...state.meta,
    outcome,
    durationSeconds: Math.round(elapsed / 100) / 10,
    config,
    settings: SETTINGS,
    rows,
    skipped: state.skipped,
    failures: state.failures,
    samples: state.samples,
  });
  writeSvg(
    svgPath,
    throughputSvg(
      rows,
      `${String(state.meta.redis)}; ${String(state.meta.node)}; ${String(state.meta.cpu)}; ${String(state.meta.date)}`,
    ),
  );
  out.push('', `Wrote ${jsonPath} and ${svgPath}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return outcome === 'done' && state.failures.length === 0;
}

/**
 * Repetition after repetition; in each, the case runs by priority and, inside a case, the
 * systems one after the other. From the second repetition on, a case runs only if the
 * durations its runs took before say it ends within the budget, leaving room for the
 * repetitions still to come of the cases before it in priority; otherwise it is skipped (for
 * every system alike) and a shorter case may still fit.
 */
async function runAll(state: RunState, processes: SystemProcesses, args: Args): Promise<void> {
  const { config } = state;
  const { only, systems } = args;
  const runs: CaseRun[] = selectedRuns(config, only).sort((a, b) => a.priority - b.priority);
  const took = new Map<string, number>();
  const compared = systems.filter((s) => !isReference(s));
  const systemsOf = (run: CaseRun) =>
    (run.references ? systems : compared).filter((s) => !run.systems || run.systems.includes(s));
  const total = runs.reduce((sum, run) => sum + systemsOf(run).length, 0) * config.reps;
  const expectedMs = (run: CaseRun) =>
    systemsOf(run).reduce((sum, s) => sum + (took.get(`${run.id}:${s}`) ?? 0), 0);
  let done = 0;
  const warmup = runs.find((run) => run.id === processCaseId(COST_CONCURRENCY));
  if (warmup) await warmUp(state, processes, warmup, systemsOf(warmup));
  for (let rep = 0; rep < config.reps; rep++) {
    for (const run of runs) {
      if (rep > 0) {
        const expected = expectedMs(run);
        // Room is kept for the repetitions still to come of the cases before it in priority.
        const reserved = runs
          .filter((other) => other.priority < run.priority)
          .reduce((sum, other) => sum + expectedMs(other) * (config.reps - 1 - rep), 0);
        const endsAt = Date.now() + (expected + reserved) * 1.1;
        if (endsAt - state.startedAt > config.budgetMs) {
          state.skipped.push({ caseId: run.id, rep });
          log(
            `${run.label} | rep ${rep + 1}: skipped (needs ~${seconds(expected)} s, over the budget)`,
          );
          continue;
        }
      }
      for (const system of systemsOf(run)) {
        if (state.finished) return;
        done++;
        const prefix = `${done}/${total} ${run.label} | rep ${rep + 1} | ${system}`;
        const runStarted = Date.now();
        try {
          const measurement = await processes.of(system).run(run.id);
          state.samples.push({ caseId: run.id, system, rep, ...measurement });
          log(
            `${prefix}: ${run.summary(measurement)}  [${seconds(Date.now() - runStarted)} s, total ${seconds(Date.now() - state.startedAt)} s]`,
          );
        } catch (error) {
          const message = errorMessage(error);
          state.failures.push({ caseId: run.id, system, rep, error: message });
          log(`${prefix}: FAILED ${message}`);
        }
        // The later estimate, without the one-off preparation of the first run.
        took.set(`${run.id}:${system}`, Date.now() - runStarted);
      }
    }
  }
}

/**
 * A round not counted, of the same length for every system: the first processing runs of a
 * system in its process also measure V8 compiling its hot paths, which the warm-up jobs of
 * a run (a tenth of a second for the fastest systems, half a second for the slowest) do not
 * cover alike.
 */
async function warmUp(
  state: RunState,
  processes: SystemProcesses,
  run: CaseRun,
  systems: readonly SystemName[],
): Promise<void> {
  for (const system of systems) {
    const started = Date.now();
    do {
      if (state.finished) return;
      try {
        const measurement = await processes.of(system).run(run.id);
        log(
          `warm-up round (not counted) ${run.label} | ${system}: ${run.summary(measurement)}  [${seconds(Date.now() - started)} s]`,
        );
      } catch (error) {
        log(`warm-up round ${system}: FAILED ${errorMessage(error)}`);
        break;
      }
    } while (Date.now() - started < state.config.warmupRoundMs);
  }
}

/** After a full run, the README's table shows the latest.json just written. */
async function refreshReadme(): Promise<void> {
  try {
    const changed = await updateReadme();
    log(`${changed ? 'rewrote' : 'unchanged:'} the benchmark table of ${README}`);
  } catch (error) {
    log(`README table not rewritten: ${errorMessage(error)}`);
  }
}

interface Args {
  config: BenchConfig;
  only?: string;
  systems: readonly SystemName[];
  /** `--metrics`: ours runs with `QueueMetricsModule` (a registry of its own), to price it. */
  metrics: boolean;
  /** `--shards <n>`: ours runs its namespace over n shards (docs/sharding.md). */
  shards?: string;
}

/** `--quick`; for working on one case: `--only <case id part>`, `--reps <n>`, `--systems a,b`. */
function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  let config = argv.includes('--quick') ? QUICK : FULL;
  const reps = value('--reps');
  if (reps !== undefined) {
    if (!/^[1-9]\d*$/.test(reps)) throw new Error(`--reps must be a positive integer, got ${reps}`);
    config = { ...config, reps: Number(reps) };
  }
  const known: readonly string[] = ALL_SYSTEMS;
  const systems = (value('--systems')?.split(',') ?? ALL_SYSTEMS) as SystemName[];
  const unknown = systems.filter((s) => !known.includes(s));
  if (unknown.length > 0) throw new Error(`--systems: unknown ${unknown.join(', ')}`);
  const shards = value('--shards');
  if (shards !== undefined && !/^[1-9]\d*$/.test(shards)) {
    throw new Error(`--shards must be a positive integer, got ${shards}`);
  }
  return { config, only: value('--only'), systems, metrics: argv.includes('--metrics'), shards };
}

/** A read-only git command in the repository; its output. */
function git(...args: string[]): string {
  return execFileSync('git', args, {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
}

/** The commit measured, and whether the library had uncommitted changes. */
function sourceRevision(): { commit: string; libsModified: boolean } | undefined {
  try {
    return {
      commit: git('rev-parse', '--short', 'HEAD').trim(),
      libsModified: git('status', '--porcelain', '--', 'libs').trim() !== '',
    };
  } catch {
    return undefined;
  }
}

async function installedVersion(name: string): Promise<string> {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
}

async function versions(): Promise<Record<string, string>> {
  return {
    bullmq: await installedVersion('bullmq'),
    'bee-queue': await installedVersion('bee-queue'),
    ioredis: await installedVersion('ioredis'),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { config, only } = args;
  // Read by ours' adapter in the system processes, which inherit the environment.
  if (args.metrics) process.env.BENCH_METRICS = '1';
  if (args.shards) process.env.BENCH_SHARDS = args.shards;
  const state: RunState = {
    config,
    // From the process start: loading and compiling the bench count against the budget too.
    startedAt: Math.round(performance.timeOrigin),
    samples: [],
    failures: [],
    skipped: [],
    meta: {},
    finished: false,
    partialSelection:
      args.metrics ||
      args.shards !== undefined ||
      config.quick ||
      only !== undefined ||
      config.reps !== FULL.reps ||
      args.systems.length !== ALL_SYSTEMS.length,
  };
  let server: ToolRedis | undefined;
  let client: Redis | undefined;
  let processes: SystemProcesses | undefined;

  const stop = async () => {
    await processes?.stop();
    client?.disconnect();
    await server?.stop().catch(() => undefined);
  };
  const abort = async (outcome: Exclude<Outcome, 'done'>, code: number) => {
    if (state.finished) return;
    state.finished = true;
    processes?.kill();
    log(
      outcome === 'timeout' ? `hard timeout of ${seconds(config.hardTimeoutMs)} s` : 'interrupted',
    );
    try {
      await report(state, outcome);
    } finally {
      await stop();
      process.exit(code);
    }
  };
  // Both bounds count from the process start, like the budget.
  const hardTimer = setTimeout(
    () => void abort('timeout', 1),
    config.hardTimeoutMs - performance.now(),
  );
  process.once('SIGINT', () => void abort('interrupted', 130));
  process.once('SIGTERM', () => void abort('interrupted', 143));

  try {
    server = await startToolRedis('bench');
    client = new Redis(server.url, { maxRetriesPerRequest: 3 });
    state.meta = {
      date: new Date().toISOString(),
      redis: `redis-server ${await redisVersion(client)} (${BENCH_REDIS_ARGS.join(' ')}, --save '')`,
      node: `Node ${process.version}`,
      cpu: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}`,
      loadAverageAtStart: loadavg(),
      source: sourceRevision(),
      versions: await versions(),
    };
    log(`redis-server on ${server.url}; ${config.quick ? 'quick' : 'full'} run`);
    processes = await SystemProcesses.start(args.systems, server.url, config);
    await runAll(state, processes, args);
    if (state.finished) return 1;
    state.finished = true;
    clearTimeout(hardTimer);
    const ok = await report(state, 'done');
    if (!state.partialSelection) await refreshReadme();
    return ok ? 0 : 1;
  } finally {
    clearTimeout(hardTimer);
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
