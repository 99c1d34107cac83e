/**
 * Redis time inside EVALSHA per processed job for four data models of the same processing
 * loop (enqueue in batches of 500, then fetch 25 jobs a call while acking the previous 25):
 *
 * - `job-hash, kept`: one hash per job; the ack marks it completed and sets an expiry;
 * - `job-hash, deleted`: the same, the ack deletes it (the `lua-job-hash` reference loop, and
 *   ours with `redis.backupTtl: 0` for a job with options of its own);
 * - `shared leases`: one hash per job for the spec, lease tokens in one namespace hash;
 * - `all shared`: no key per job (the `lua-shared-hash` reference loop; ours keeps a job
 *   enqueued with nothing of its own but a spec much this way, in `specs` and `leases`).
 *
 * One client, one call at a time, on a redis-server of its own: the figures are the scripts'
 * own cost (INFO commandstats), without the network or the queue around them.
 *
 *   node --import @swc-node/register/esm-register bench/data-model-cost.ts
 */
import { Redis } from 'ioredis';
import {
  ADD_JOB_HASH,
  ADD_SHARED_HASH,
  FETCH_JOB_HASH,
  FETCH_SHARED_HASH,
} from './adapters/bare-lua.js';
import { startToolRedis } from './util.js';

const JOBS = 40_000;
const ENQUEUE_BATCH = 500;
const SLOTS = 25;
const ROUNDS = 5;
const SPEC = '["bench.noop",1764140000000,null,"bench.done"]\n{"n":1}';

// KEYS: ready, active, metrics, specs, leases, attempts, as the reference loops use them.
const DELETE_JOB = "redis.call('DEL', jobKey)";

if (!FETCH_JOB_HASH.includes(DELETE_JOB)) throw new Error('the job-hash loop changed its ack');

/** The `lua-job-hash` loop, but the ack marks the job completed and sets an expiry. */
const FETCH_JOB_HASH_KEPT = FETCH_JOB_HASH.replace(
  DELETE_JOB,
  "redis.call('HSET', jobKey, 'state', 'completed', 'finishedAt', ARGV[4])\n" +
    "    redis.call('PEXPIRE', jobKey, 604800000)",
);

/** The `lua-job-hash` loop with its lease tokens in one hash (KEYS[5]) instead of the job's. */
const FETCH_SHARED_LEASES = `
local prefix, slots, tokenPrefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ids, done = {}, {}
for i = 5, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
if #ids > 0 then
  local held = redis.call('HMGET', KEYS[5], unpack(ids))
  for i, id in ipairs(ids) do
    if held[i] == ARGV[2 * i + 4] then done[#done + 1] = id end
  end
end
for _, id in ipairs(done) do redis.call('DEL', prefix .. 'job:' .. id) end
if #done > 0 then
  redis.call('ZREM', KEYS[2], unpack(done))
  redis.call('HDEL', KEYS[5], unpack(done))
  redis.call('HINCRBY', KEYS[3], 'processed', #done)
end
local taken = redis.call('RPOP', KEYS[1], slots) or {}
local reply, deadlines, tokens = { #done }, {}, {}
for _, id in ipairs(taken) do
  local job = redis.call('HMGET', prefix .. 'job:' .. id, 'spec', 'attempts')
  local attempt = tonumber(job[2] or 0) + 1
  tokens[#tokens + 1], tokens[#tokens + 2] = id, tokenPrefix .. ':' .. attempt
  deadlines[#deadlines + 1], deadlines[#deadlines + 2] = 2000000000000, id
  reply[#reply + 1], reply[#reply + 2], reply[#reply + 3] = id, job[1], attempt
end
if #taken > 0 then
  redis.call('ZADD', KEYS[2], unpack(deadlines))
  redis.call('HSET', KEYS[5], unpack(tokens))
end
return reply`;

const MODELS: Record<string, [add: string, fetch: string]> = {
  'job-hash, kept': [ADD_JOB_HASH, FETCH_JOB_HASH_KEPT],
  'job-hash, deleted': [ADD_JOB_HASH, FETCH_JOB_HASH],
  'shared leases': [ADD_JOB_HASH, FETCH_SHARED_LEASES],
  'all shared': [ADD_SHARED_HASH, FETCH_SHARED_HASH],
};

const PREFIX = 'cost:{m}:';
const KEYS = ['ready', 'active', 'metrics', 'specs', 'leases', 'attempts'].map((k) => PREFIX + k);

async function evalUsecPerJob(redis: Redis, add: string, fetch: string): Promise<number> {
  await redis.flushall();
  // A long value: the leases hash is a real hash table from the start, as under load.
  await redis.hset(KEYS[4]!, '__table', 'x'.repeat(100));
  await redis.config('RESETSTAT');
  for (let start = 0; start < JOBS; start += ENQUEUE_BATCH) {
    const args: string[] = [PREFIX];
    for (let n = start; n < start + ENQUEUE_BATCH; n++) args.push(`id${n}`, SPEC);
    await redis.evalsha(add, KEYS.length, ...KEYS, ...args);
  }
  let acks: string[] = [];
  let processed = 0;
  for (;;) {
    const reply = (await redis.evalsha(
      fetch,
      KEYS.length,
      ...KEYS,
      PREFIX,
      SLOTS,
      'token',
      Date.now(),
      ...acks,
    )) as (string | number)[];
    processed += Number(reply[0]);
    acks = [];
    for (let i = 1; i < reply.length; i += 3) acks.push(String(reply[i]), `token:${reply[i + 2]}`);
    if (reply.length === 1 && acks.length === 0) break;
  }
  if (processed !== JOBS) throw new Error(`processed ${processed} of ${JOBS} jobs`);
  const stats = await redis.info('commandstats');
  const [, calls, usec] = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats) ?? [];
  if (!calls) throw new Error('no EVALSHA in INFO commandstats');
  return Number(usec) / JOBS;
}

const server = await startToolRedis('model-cost');
const redis = new Redis(server.url);
try {
  const scripts = new Map<string, [string, string]>();
  for (const [name, [add, fetch]] of Object.entries(MODELS)) {
    scripts.set(name, [
      (await redis.script('LOAD', add)) as string,
      (await redis.script('LOAD', fetch)) as string,
    ]);
  }
  const samples = new Map<string, number[]>();
  // Rounds alternate the models, so that a busy moment of the machine hits them all.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [add, fetch]] of scripts) {
      samples.set(name, [...(samples.get(name) ?? []), await evalUsecPerJob(redis, add, fetch)]);
    }
  }
  // The least is the cost with the least interference from the rest of the machine.
  console.log(`EVALSHA µs per processed job over ${ROUNDS} rounds of ${JOBS} jobs: least, median`);
  for (const [name, values] of samples) {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(ROUNDS / 2)]!;
    console.log(`  ${name.padEnd(18)} ${sorted[0]!.toFixed(2)}  ${median.toFixed(2)}`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}
