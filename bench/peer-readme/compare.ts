/**
 * Is the bench fair to the peers? Each peer runs as the shortest script its own README shows
 * (`bullmq-readme.ts`, `bee-queue-readme.ts`, each in a fresh Node process) and through the
 * bench harness (its adapter, in a system process kept for all its runs, as `npm run bench`
 * runs it), on one private redis-server, at concurrency 50 and 200 and at concurrency 50
 * with the default retention. Runs are interleaved (script and harness alternate which goes
 * first) and repeated, so that a noisy machine slows both alike. Both time the same window:
 * the 50,000 completions after the first 10,000.
 *
 *   node --expose-gc --import @swc-node/register/esm-register bench/peer-readme/compare.ts [--reps 3]
 *
 * Prints a table (min / median / max per side) and writes bench/results/peer-readme.json.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Retention, SystemName } from '../adapters/adapter.js';
import { processCaseId } from '../cases/processing.js';
import { FULL } from '../context.js';
import { formatValue, writeJson } from '../report.js';
import { redisVersion } from '../redis-stats.js';
import { SystemProcesses } from '../system-process.js';
import { BENCH_REDIS_ARGS, errorMessage, median, startToolRedis } from '../util.js';

const PEERS = ['bullmq', 'bee-queue'] as const satisfies readonly SystemName[];
type Peer = (typeof PEERS)[number];
type Side = 'readme' | 'harness';

interface Cell {
  concurrency: number;
  retention: Retention;
}

const CELLS: readonly Cell[] = [
  { concurrency: 50, retention: 'none' },
  { concurrency: 200, retention: 'none' },
  { concurrency: 50, retention: 'default' },
];

interface Sample extends Cell {
  peer: Peer;
  side: Side;
  rep: number;
  jobsPerSec: number;
  /** CPU time of the peer's own Node process per job, in the same window. */
  nodeCpuUsPerJob: number;
}

type Figures = Pick<Sample, 'jobsPerSec' | 'nodeCpuUsPerJob'>;

const SCRIPT_TIMEOUT_MS = 180_000;
const RESULT = fileURLToPath(new URL('../results/peer-readme.json', import.meta.url));

function log(line: string): void {
  process.stderr.write(`[peer-readme] ${line}\n`);
}

function cellName({ concurrency, retention }: Cell): string {
  return `concurrency ${concurrency}${retention === 'none' ? '' : ', default retention'}`;
}

/** One run of a peer's README script in a fresh Node process: what its window measured. */
function runScript(peer: Peer, redisUrl: string, cell: Cell): Promise<Figures> {
  const script = fileURLToPath(new URL(`./${peer}-readme.ts`, import.meta.url));
  const args = [
    '--import',
    '@swc-node/register/esm-register',
    script,
    redisUrl,
    String(cell.concurrency),
    String(FULL.processWarmupJobs),
    String(FULL.processJobs),
    cell.retention,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: SCRIPT_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${peer} README script: ${error.message} ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Figures);
    });
  });
}

/** As `npm run bench` does before its first repetition: the concurrency-50 case, not counted. */
async function runSide(
  side: Side,
  peer: Peer,
  cell: Cell,
  processes: SystemProcesses,
  redis: Redis,
  redisUrl: string,
): Promise<Figures> {
  if (side === 'readme') {
    await redis.flushall();
    return runScript(peer, redisUrl, cell);
  }
  const { values } = await processes.of(peer).run(processCaseId(cell.concurrency, cell.retention));
  return { jobsPerSec: values.jobsPerSec!, nodeCpuUsPerJob: values.nodeCpuUsPerJob! };
}

async function warmUpHarness(processes: SystemProcesses, peers: readonly Peer[]): Promise<void> {
  for (const peer of peers) {
    const started = Date.now();
    do {
      const m = await processes.of(peer).run(processCaseId(50));
      log(`harness warm-up (not counted) ${peer}: ${formatValue(m.values.jobsPerSec, 'jobs/s')}`);
    } while (Date.now() - started < FULL.warmupRoundMs);
  }
}

interface Summary {
  min: number;
  median: number;
  max: number;
}

function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  return { min: Math.min(...values), median: median(values)!, max: Math.max(...values) };
}

/** Lower or higher beyond the spread: the two sides' ranges do not overlap. */
function verdict(harness: Summary, readme: Summary): string {
  if (harness.max < readme.min) return 'harness lower beyond the spread';
  if (harness.min > readme.max) return 'harness higher beyond the spread';
  return 'within the spread';
}

function jobsCell(s: Summary | undefined): string {
  return s ? [s.min, s.median, s.max].map((v) => formatValue(v, 'jobs/s')).join(' / ') : '-';
}

function table(samples: readonly Sample[], peers: readonly Peer[], cells: readonly Cell[]): string {
  const lines = [
    '| peer | case | README script, jobs/s min / median / max | harness, jobs/s min / median / max | harness / script (medians) | verdict | Node CPU µs/job, script / harness (medians) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const cell of cells) {
    for (const peer of peers) {
      const of = (side: Side, figure: keyof Figures) =>
        summarize(
          samples
            .filter(
              (s) =>
                s.peer === peer &&
                s.side === side &&
                s.concurrency === cell.concurrency &&
                s.retention === cell.retention,
            )
            .map((s) => s[figure]),
        );
      const readme = of('readme', 'jobsPerSec');
      const harness = of('harness', 'jobsPerSec');
      const cpu = [of('readme', 'nodeCpuUsPerJob'), of('harness', 'nodeCpuUsPerJob')];
      const both = readme && harness;
      lines.push(
        `| ${peer} | ${cellName(cell)} | ${jobsCell(readme)} | ${jobsCell(harness)} | ` +
          `${both ? `${(harness.median / readme.median).toFixed(2)}x` : '-'} | ` +
          `${both ? verdict(harness, readme) : '-'} | ` +
          `${cpu.map((c) => (c ? c.median.toFixed(1) : '-')).join(' / ')} |`,
      );
    }
  }
  return lines.join('\n');
}

interface Args {
  reps: number;
  peers: readonly Peer[];
  cells: readonly Cell[];
}

/** `--reps <n>`; to look at one part: `--peers bullmq`, `--concurrency 200`. */
function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at < 0 ? undefined : (argv[at + 1] ?? '');
  };
  const reps = value('--reps') ?? '3';
  if (!/^[1-9]\d*$/.test(reps)) throw new Error(`--reps must be a positive integer, got ${reps}`);
  const peers = (value('--peers')?.split(',') ?? PEERS) as Peer[];
  const unknown = peers.filter((p) => !(PEERS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--peers: unknown ${unknown.join(', ')}`);
  const concurrency = value('--concurrency');
  const cells = CELLS.filter(
    (c) => concurrency === undefined || String(c.concurrency) === concurrency,
  );
  if (cells.length === 0)
    throw new Error(`--concurrency: none of ${CELLS.map((c) => c.concurrency).join(', ')}`);
  return { reps: Number(reps), peers, cells };
}

async function main(): Promise<void> {
  const { reps, peers, cells } = parseArgs(process.argv.slice(2));
  const server = await startToolRedis('peer-readme');
  const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
  let processes: SystemProcesses | undefined;
  const samples: Sample[] = [];
  const failures: string[] = [];
  const meta = {
    date: new Date().toISOString(),
    redis: `redis-server ${await redisVersion(redis)} (${BENCH_REDIS_ARGS.join(' ')}, --save '')`,
    node: `Node ${process.version}`,
    cpu: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}`,
    loadAverageAtStart: loadavg(),
  };
  try {
    processes = await SystemProcesses.start(peers, server.url, FULL);
    await warmUpHarness(processes, peers);
    for (let rep = 0; rep < reps; rep++) {
      for (const cell of cells) {
        for (const peer of peers) {
          const sides: Side[] = rep % 2 === 0 ? ['readme', 'harness'] : ['harness', 'readme'];
          for (const side of sides) {
            const what = `rep ${rep + 1} ${peer} ${cellName(cell)} ${side}`;
            try {
              const figures = await runSide(side, peer, cell, processes, redis, server.url);
              samples.push({ ...cell, peer, side, rep, ...figures });
              log(
                `${what}: ${formatValue(figures.jobsPerSec, 'jobs/s')} jobs/s, ` +
                  `Node CPU ${figures.nodeCpuUsPerJob.toFixed(1)} µs/job`,
              );
            } catch (error) {
              failures.push(`${what}: ${errorMessage(error)}`);
              log(`${what}: FAILED ${errorMessage(error)}`);
            }
          }
        }
      }
    }
  } finally {
    await processes?.stop();
    redis.disconnect();
    await server.stop();
  }
  const report = { ...meta, loadAverageAtEnd: loadavg(), reps, samples, failures };
  await writeJson(RESULT, report);
  process.stdout.write(
    `\n${meta.cpu}; ${meta.node}; ${meta.redis}; load average at start ` +
      `${meta.loadAverageAtStart.map((n) => n.toFixed(2)).join(' ')}, at end ` +
      `${report.loadAverageAtEnd.map((n) => n.toFixed(2)).join(' ')}; ${reps} interleaved repetitions\n\n` +
      `${table(samples, peers, cells)}\n\nWrote ${RESULT}\n`,
  );
  if (failures.length > 0) process.exitCode = 1;
}

await main();
