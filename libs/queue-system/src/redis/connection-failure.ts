import { TaskCancelledError } from 'cockatiel';

/** A call waited for a connection that is closed, or not up before the call policy gave up. */
export class RedisNotConnectedError extends Error {
  override readonly name = 'RedisNotConnectedError';
}

/** Socket errors of Node's `net` and DNS that mean Redis cannot be reached right now. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * What ioredis rejects a command with when it has no connection to send it on (its
 * `redis-errors` classes, and the plain errors of `Redis`, `Cluster` and their event handlers).
 */
const CLIENT_ERROR_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  // "Command aborted due to connection close", "Cluster is ended."
  'AbortError',
]);
const CLIENT_ERROR_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  "Cluster isn't ready",
  'Cluster is disconnect',
  'None of startup nodes is available',
  'Node is disconnected',
  'Command timed out',
  'Socket timeout',
  'connect ETIMEDOUT',
];

/**
 * Replies of a Redis Cluster whose slot has no reachable master for now: the cluster is down
 * or a failover is under way (`CLUSTERDOWN`, `TRYAGAIN` during a slot move, a node `LOADING`
 * its data), or ioredis's `Cluster` followed redirections and reconnections until it gave up.
 * Redis did not run the command; a retry after the failover does. A bare `MOVED` or `ASK` is
 * not among them: a `Cluster` follows those itself, so one reaching the library means a plain
 * `Redis` client is pointed at a cluster node, which no retry mends.
 */
const FAILOVER_REPLY_PREFIXES = [
  'CLUSTERDOWN ',
  'TRYAGAIN ',
  'LOADING ',
  'Too many Cluster redirections',
];

/**
 * True only for the failures that say Redis is out of reach: a connection refused, reset or
 * closed, a client that gave up retrying, a timeout, a cluster slot without a master. Those are retried and count towards the
 * circuit breaker. Anything else (a reply error, a missing Lua file, a bug) is the call's own
 * answer: told to the caller as itself, once, and never opening the circuit.
 */
export function isConnectionFailure(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  if (error instanceof TaskCancelledError || error instanceof RedisNotConnectedError) return true;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (CLIENT_ERROR_NAMES.has(error.name)) return true;
  if (CLIENT_ERROR_MESSAGES.some((start) => error.message.startsWith(start))) return true;
  return FAILOVER_REPLY_PREFIXES.some((start) => error.message.startsWith(start));
}
