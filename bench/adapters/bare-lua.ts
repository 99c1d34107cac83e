import { Redis } from 'ioredis';
import { CountingAdapter, type AdapterOptions, type QueueAdapter } from './adapter.js';

/**
 * Two reference loops, not queues: what a plain Lua design costs on this machine and this
 * Redis, with nothing around it (no Nest, no call policy, no retries, no timeouts, no
 * callbacks, no heartbeat, no stalled-job recovery, no priorities or per-queue limits). Each
 * call acks the jobs finished since the last call and fetches the next ones, as ours does;
 * jobs keep a lease (token, deadline in `active`) and an attempt count. The rows say how far
 * a target is from what the design itself allows here, and what a different data model would
 * give.
 *
 * - `lua-job-hash`: one hash per job holding spec, state, lease and attempts, the layout ours
 *   keeps for jobs with options of their own (priority, delay, deduplication key, chosen id):
 *   per job, the fetch reads and writes its hash, and the ack checks and deletes it.
 * - `lua-shared-hash`: no key per job; specs, leases and attempts live in one hash each per
 *   queue and every command of a call covers the whole batch. Ours keeps a job enqueued with
 *   nothing of its own but a spec (the bench's jobs) this way, with specs and leases only.
 */
export type BareLuaLayout = 'job-hash' | 'shared-hash';

// Args: prefix, slots, token prefix, now (ms), then (id, token) per finished job.
export const FETCH_JOB_HASH = `
local prefix, slots, tokenPrefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local done = {}
for i = 5, #ARGV, 2 do
  local jobKey = prefix .. 'job:' .. ARGV[i]
  local job = redis.call('HMGET', jobKey, 'state', 'lease')
  if job[1] == 'active' and job[2] == ARGV[i + 1] then
    redis.call('DEL', jobKey)
    done[#done + 1] = ARGV[i]
  end
end
if #done > 0 then
  redis.call('ZREM', KEYS[2], unpack(done))
  redis.call('HINCRBY', KEYS[3], 'processed', #done)
end
local ids = redis.call('RPOP', KEYS[1], slots) or {}
local reply, leases = { #done }, {}
for _, id in ipairs(ids) do
  local jobKey = prefix .. 'job:' .. id
  local job = redis.call('HMGET', jobKey, 'spec', 'attempts')
  local attempt = tonumber(job[2] or 0) + 1
  redis.call('HSET', jobKey, 'state', 'active', 'lease', tokenPrefix .. ':' .. attempt, 'attempts', attempt)
  leases[#leases + 1] = 2000000000000
  leases[#leases + 1] = id
  reply[#reply + 1] = id
  reply[#reply + 1] = job[1]
  reply[#reply + 1] = attempt
end
if #leases > 0 then redis.call('ZADD', KEYS[2], unpack(leases)) end
return reply`;

export const FETCH_SHARED_HASH = `
local slots, tokenPrefix = tonumber(ARGV[2]), ARGV[3]
local ids, held = {}, 0
for i = 5, #ARGV, 2 do
  held = held + 1
  ids[held] = ARGV[i]
end
local done = {}
if held > 0 then
  local tokens = redis.call('HMGET', KEYS[5], unpack(ids))
  for i = 1, held do
    if tokens[i] == ARGV[2 * i + 4] then done[#done + 1] = ids[i] end
  end
  if #done > 0 then
    redis.call('ZREM', KEYS[2], unpack(done))
    redis.call('HDEL', KEYS[5], unpack(done))
    redis.call('HDEL', KEYS[4], unpack(done))
    redis.call('HINCRBY', KEYS[3], 'processed', #done)
  end
end
local taken = redis.call('RPOP', KEYS[1], slots) or {}
local reply = { #done }
if #taken > 0 then
  local specs = redis.call('HMGET', KEYS[4], unpack(taken))
  local attempts = redis.call('HMGET', KEYS[6], unpack(taken))
  local leases, tokens, counts = {}, {}, {}
  for i, id in ipairs(taken) do
    local attempt = tonumber(attempts[i] or 0) + 1
    leases[#leases + 1] = 2000000000000
    leases[#leases + 1] = id
    tokens[#tokens + 1] = id
    tokens[#tokens + 1] = tokenPrefix .. ':' .. attempt
    counts[#counts + 1] = id
    counts[#counts + 1] = attempt
    reply[#reply + 1] = id
    reply[#reply + 1] = specs[i]
    reply[#reply + 1] = attempt
  end
  redis.call('ZADD', KEYS[2], unpack(leases))
  redis.call('HSET', KEYS[5], unpack(tokens))
  redis.call('HSET', KEYS[6], unpack(counts))
end
return reply`;

// Args: prefix, then (id, spec) per job.
export const ADD_JOB_HASH = `
local ids = {}
for i = 2, #ARGV, 2 do
  redis.call('HSET', ARGV[1] .. 'job:' .. ARGV[i], 'spec', ARGV[i + 1])
  ids[#ids + 1] = ARGV[i]
end
redis.call('LPUSH', KEYS[1], unpack(ids))
return #ids`;

export const ADD_SHARED_HASH = `
local ids, fields = {}, {}
for i = 2, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[4], unpack(fields))
redis.call('LPUSH', KEYS[1], unpack(ids))
return #ids`;

/**
 * Larger than hash-max-listpack-value and zset-max-listpack-value: the leases hash and the
 * active sorted set are a hash table and a skiplist from the start, as ours are.
 */
const LISTPACK_ANCHOR = 'x'.repeat(100);
const FETCHES_IN_FLIGHT = 2;
const IDLE_POLL_MS = 1;

type Reply = (string | number)[];

interface BareLuaCommands {
  bareFetch(...args: (string | number)[]): Promise<Reply>;
  bareAdd(...args: (string | number)[]): Promise<number>;
}

export class BareLuaAdapter extends CountingAdapter implements QueueAdapter {
  readonly name;
  private producer?: Redis & BareLuaCommands;
  private consumer?: Redis & BareLuaCommands;
  private prefix = '';
  /** ready, active, metrics, specs, leases, attempts: the script keys of every call. */
  private keys: string[] = [];
  private concurrency = 1;
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly layout: BareLuaLayout) {
    super();
    this.name = layout === 'job-hash' ? ('lua-job-hash' as const) : ('lua-shared-hash' as const);
  }

  async setup(
    redisUrl: string,
    { concurrency, consumer, prefix, retention }: AdapterOptions,
  ): Promise<void> {
    // A loop keeps nothing of a finished job: a row that asks for retention is not its row.
    if (retention !== 'none') throw new Error(`${this.name}: no retention of completed jobs`);
    this.prefix = `${prefix}:`;
    this.keys = ['ready', 'active', 'metrics', 'specs', 'leases', 'attempts'].map(
      (name) => this.prefix + name,
    );
    this.concurrency = concurrency;
    this.producer = this.connect(redisUrl);
    if (consumer) this.consumer = this.connect(redisUrl);
    await this.producer.ping();
    await this.consumer?.ping();
    if (this.layout === 'shared-hash') {
      await this.producer.hset(`${this.prefix}leases`, '__hash_table', LISTPACK_ANCHOR);
    }
    await this.producer.zadd(`${this.prefix}active`, '+inf', LISTPACK_ANCHOR);
  }

  async enqueueOne(n: number): Promise<void> {
    await this.producer!.bareAdd(...this.keys, this.prefix, String(n), JSON.stringify({ n }));
  }

  async enqueueBatch(ns: readonly number[]): Promise<void> {
    const jobs = ns.flatMap((n) => [String(n), JSON.stringify({ n })]);
    await this.producer!.bareAdd(...this.keys, this.prefix, ...jobs);
  }

  async startProcessing(onJobStart?: (n: number) => void): Promise<void> {
    const inFlight = this.concurrency >= 8 ? FETCHES_IN_FLIGHT : 1;
    const slots = Math.max(1, Math.floor(this.concurrency / inFlight));
    const token = `bare-${process.pid}`;
    const loop = async () => {
      let acks: string[] = [];
      while (!this.stopping || acks.length > 0) {
        const sent = acks;
        acks = [];
        const reply = await this.consumer!.bareFetch(
          ...this.keys,
          this.prefix,
          this.stopping ? 0 : slots,
          token,
          Date.now(),
          ...sent,
        );
        for (let i = 0; i < Number(reply[0]); i++) this.completions.increment();
        for (let i = 1; i < reply.length; i += 3) {
          const entity = JSON.parse(String(reply[i + 1])) as { n: number };
          onJobStart?.(entity.n);
          acks.push(String(reply[i]), `${token}:${String(reply[i + 2])}`);
        }
        if (reply.length === 1 && acks.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
        }
      }
    };
    this.loops = Array.from({ length: inFlight }, loop);
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.consumer?.disconnect();
    this.producer?.disconnect();
  }

  private connect(redisUrl: string): Redis & BareLuaCommands {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    const shared = this.layout === 'shared-hash';
    client.defineCommand('bareFetch', {
      numberOfKeys: 6,
      lua: shared ? FETCH_SHARED_HASH : FETCH_JOB_HASH,
    });
    client.defineCommand('bareAdd', {
      numberOfKeys: 6,
      lua: shared ? ADD_SHARED_HASH : ADD_JOB_HASH,
    });
    return client as Redis & BareLuaCommands;
  }
}
