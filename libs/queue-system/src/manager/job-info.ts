import type { JobProgress } from '../events/queue-event.js';
import type { EnqueueResult, JobInfo } from '../interfaces/job-options.interface.js';
import type { FetchedJob } from '../redis/job-spec.js';
import type { NewJob, NotCreated } from '../redis/queue-scripts.js';
import type { SerializerRegistry } from '../serialization/serializer-registry.js';

/** A job as `getJob` shows it; an entity or result that cannot be read is left undefined. */
export function toJobInfo(
  job: FetchedJob,
  serializers: SerializerRegistry,
  defaultMaxAttempts: number,
): JobInfo {
  const serializer = serializers.get(job.serializer);
  return {
    operationId: job.id,
    state: job.state,
    queueName: job.queue,
    priority: job.priority,
    processor: job.processor,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts ?? defaultMaxAttempts,
    entity: serializer ? tryParse(() => serializer.deserialize(job.payload)) : undefined,
    result: job.result ? tryParse(() => JSON.parse(job.result!)) : undefined,
    lastError: job.lastError,
    progress: job.progress ? (tryParse(() => JSON.parse(job.progress!)) as JobProgress) : undefined,
    enqueuedAt: job.enqueuedAt,
    firstAttemptAt: job.firstAttemptAt,
    finishedAt: job.finishedAt,
    tenant: job.tenant,
    onSuccess: job.onSuccess,
    onFailure: job.onFailure,
    deduplicationKey: job.dedupKey,
  };
}

export function toResult(
  job: NewJob,
  operationId: string,
  outcome: true | NotCreated,
  now: number,
): EnqueueResult {
  const result: EnqueueResult = {
    operationId,
    queueName: job.queueName,
    priority: job.priority,
    created: outcome === true,
    runAt: Math.max(job.dueAt, now),
  };
  // Set only when a key deduplicated the job: a created job's result keeps its usual shape.
  if (outcome === 'deduplicated' || outcome === 'replaced') result.deduplicated = true;
  if (outcome === 'replaced') result.replaced = true;
  return result;
}

function tryParse(parse: () => unknown): unknown {
  try {
    return parse();
  } catch {
    return undefined;
  }
}
