import type * as OpenTelemetry from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { QueueConfig } from '../config/index.js';
import { QueueConfigError } from '../errors.js';
import type { JobContext } from '../interfaces/processor.interface.js';
import type { DeadLetterTarget } from '../redis/queue-scripts.js';
import type { TraceCarrier } from '../redis/job-spec.js';
import { errorMessage } from '../utils/queue-logger.js';
import { LIBRARY_VERSION } from '../version.js';
import type { AttemptOutcome, JobAttempt } from '../worker/job-attempt.js';
import { ATTR, SYSTEM, errorType, sendAttributes } from './span-attributes.js';

type OpenTelemetryApi = typeof OpenTelemetry;
type Invoke = (attempt: JobAttempt, context: JobContext) => unknown;

/**
 * The library's spans, through `@opentelemetry/api` only: the app brings the SDK, the
 * exporter and the propagator. Made at boot when `tracing.enabled` is set, else never
 * loaded: a process without tracing pays one undefined check per enqueue and per attempt.
 *
 * An enqueue call is a PRODUCER span, `send <queue>`; its context is the jobs' creation
 * context and travels in their spec. Each attempt is a CONSUMER span, `process <queue>`,
 * a child of that context and linked to it (the conventions ask for the link; a job is
 * processed alone, so being its child also keeps the request, the enqueue and every attempt
 * in one trace). The processor runs with the attempt's span active.
 */
export class QueueTracing {
  /** The span of each running attempt, until its outcome is recorded. */
  private readonly spans = new WeakMap<JobAttempt, Span>();

  private constructor(
    private readonly api: OpenTelemetryApi,
    private readonly tracer: Tracer,
  ) {}

  /** Loads `@opentelemetry/api` when tracing is enabled; undefined otherwise. */
  static async load(config: QueueConfig): Promise<QueueTracing | undefined> {
    if (!config.tracing.enabled) return undefined;
    let api: OpenTelemetryApi;
    try {
      const loaded = (await import('@opentelemetry/api')) as OpenTelemetryApi & {
        default?: OpenTelemetryApi;
      };
      api = loaded.trace ? loaded : loaded.default!;
    } catch {
      throw new QueueConfigError(
        'tracing.enabled',
        true,
        'needs the package @opentelemetry/api installed beside this one',
      );
    }
    return new QueueTracing(api, api.trace.getTracer(SYSTEM, LIBRARY_VERSION));
  }

  /**
   * Runs one enqueue call (of `count` jobs for a batch) inside its `send` span; `run` gets
   * the context the jobs carry, undefined when the propagator writes none.
   */
  async send<T>(
    queue: string,
    count: number | undefined,
    run: (carrier: TraceCarrier | undefined) => Promise<T>,
  ): Promise<T> {
    const { api } = this;
    const parent = api.context.active();
    const span = this.tracer.startSpan(
      `send ${queue}`,
      { kind: api.SpanKind.PRODUCER, attributes: sendAttributes(queue, count) },
      parent,
    );
    const active = api.trace.setSpan(parent, span);
    const fields: Record<string, string> = {};
    api.propagation.inject(active, fields);
    try {
      const result = await api.context.with(active, run, undefined, carrierOf(fields));
      const single = result as { operationId?: unknown; deduplicated?: true };
      if (typeof single.operationId === 'string') {
        span.setAttribute(ATTR.messageId, single.operationId);
        if (single.deduplicated) span.setAttribute(ATTR.deduplicated, true);
      }
      return result;
    } catch (error) {
      fail(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** Opens the attempt's `process` span, under the context its job carried. */
  begin(attempt: JobAttempt): void {
    const { api } = this;
    const { job } = attempt;
    const attributes: Attributes = {
      [ATTR.system]: SYSTEM,
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.destination]: job.queue,
      [ATTR.messageId]: job.id,
      [ATTR.processor]: job.processor,
      [ATTR.attempt]: job.attempts,
      [ATTR.priority]: job.priority,
    };
    if (job.tenant !== undefined) attributes[ATTR.tenant] = job.tenant;
    // Never the context the fetch loop happens to run in: a job's only parent is its own.
    let parent: Context = api.ROOT_CONTEXT;
    if (job.traceContext !== undefined) {
      parent = api.propagation.extract(api.ROOT_CONTEXT, fieldsOf(job.traceContext));
    }
    const created = api.trace.getSpanContext(parent);
    const links = created && api.isSpanContextValid(created) ? [{ context: created }] : undefined;
    const span = this.tracer.startSpan(
      `process ${job.queue}`,
      { kind: api.SpanKind.CONSUMER, attributes, links },
      parent,
    );
    this.spans.set(attempt, span);
  }

  /** `invoke` with the attempt's span active, so that the processor's spans nest under it. */
  wrapInvoke(invoke: Invoke): Invoke {
    const { api, spans } = this;
    return (attempt, context) => {
      const span = spans.get(attempt);
      if (!span) return invoke(attempt, context);
      return api.context.with(
        api.trace.setSpan(api.ROOT_CONTEXT, span),
        invoke,
        undefined,
        attempt,
        context,
      );
    };
  }

  /** How the processor's run ended: a failure or a timeout sets ERROR with its message. */
  outcome(attempt: JobAttempt, outcome: AttemptOutcome): void {
    const span = this.spans.get(attempt);
    if (!span) return;
    if (outcome.kind === 'failed') {
      if (outcome.timedOut) span.setAttribute(ATTR.timedOut, true);
      span.addEvent('exception', {
        'exception.type': errorType(outcome.error),
        'exception.message': errorMessage(outcome.error),
      });
      fail(this.api, span, outcome.error);
    } else if (outcome.kind === 'shutdown') {
      span.addEvent('requeued', { [ATTR.reason]: 'worker shutdown' });
    } else if (outcome.kind === 'lease-lost') {
      span.addEvent('lease lost');
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: 'lease lost' });
    }
  }

  /** The failed attempt goes back to wait: the next attempt's span will follow in the trace. */
  retrying(attempt: JobAttempt, delay: number): void {
    this.spans.get(attempt)?.addEvent('retry', {
      [ATTR.retryDelay]: delay,
      [ATTR.nextAttempt]: attempt.job.attempts + 1,
    });
  }

  /** The job gives up: to a dead-letter list, with the reason as the span's status. */
  deadLettered(attempt: JobAttempt, target: DeadLetterTarget, reason: string): void {
    const span = this.spans.get(attempt);
    if (!span) return;
    span.addEvent('dead letter', { [ATTR.deadLetter]: target, [ATTR.reason]: reason });
    if (target === 'system_errors') span.setAttribute(ATTR.errorType, 'system_error');
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: reason });
  }

  /** The outcome is recorded (or left to stalled recovery): the span ends. */
  end(attempt: JobAttempt): void {
    const span = this.spans.get(attempt);
    if (!span) return;
    this.spans.delete(attempt);
    span.end();
  }
}

function fail(api: OpenTelemetryApi, span: Span, error: unknown): void {
  span.setAttribute(ATTR.errorType, errorType(error));
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorMessage(error) });
}

/** `traceparent` alone as a string, the usual case; every field when the propagator wrote more. */
function carrierOf(fields: Record<string, string>): TraceCarrier | undefined {
  const keys = Object.keys(fields);
  if (keys.length === 0) return undefined;
  if (keys.length === 1 && keys[0] === 'traceparent') return fields.traceparent;
  return fields;
}

function fieldsOf(carrier: TraceCarrier): Readonly<Record<string, string>> {
  return typeof carrier === 'string' ? { traceparent: carrier } : carrier;
}
