// Type-level tests of job contracts: compiled by `tsc -p tsconfig.json --noEmit` (npm test),
// never run. Each `@ts-expect-error` fails the compile when the line it marks compiles.
import * as v from 'valibot';
import { z } from 'zod';
import {
  defineJob,
  Processor,
  QueueManager,
  type JobContext,
  type JobInput,
  type JobEntity,
  type JobResult,
} from '../../libs/queue-system/src/index.js';

interface Welcome {
  email: string;
}
interface Receipt {
  sentAt: number;
}

const SendWelcome = defineJob<Welcome, Receipt>('types.welcome');
const ParseCount = defineJob('types.count', { schema: z.object({ count: z.coerce.number() }) });
const Greet = defineJob('types.greet', { schema: v.object({ name: v.string() }) });

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

// A schema gives the types: the processor receives its output, enqueue takes its input.
assertType<Equals<JobEntity<typeof ParseCount>, { count: number }>>();
assertType<Equals<JobInput<typeof ParseCount>, { count: unknown }>>();
assertType<Equals<JobEntity<typeof Greet>, { name: string }>>();
assertType<Equals<JobResult<typeof SendWelcome>, Receipt>>();

export class Handlers {
  @Processor(SendWelcome, { concurrency: 5 })
  async send(user: Welcome, ctx: JobContext): Promise<Receipt> {
    return { sentAt: ctx.attempt + user.email.length };
  }

  // A handler may leave out the context and return synchronously.
  @Processor(Greet)
  greet({ name }: { name: string }) {
    return name.length;
  }

  // @ts-expect-error the payload is a Welcome, not a number
  @Processor(SendWelcome)
  wrongEntity(user: number): Receipt {
    return { sentAt: user };
  }

  // @ts-expect-error the result must be a Receipt
  @Processor(SendWelcome)
  async wrongResult(user: Welcome) {
    return user.email;
  }

  // @ts-expect-error the schema's output has `count: number`, not a string
  @Processor(ParseCount)
  wrongSchemaEntity(payload: { count: string }) {
    return payload.count;
  }

  // The string form is untyped, as before.
  @Processor('types.untyped')
  untyped(entity: unknown) {
    return entity;
  }
}

export async function producer(queue: QueueManager): Promise<void> {
  await queue.enqueue({ processor: SendWelcome, entity: { email: 'ada@example.com' } });
  await queue.enqueue({ processor: ParseCount, entity: { count: '3' }, priority: 'high' });
  // @ts-expect-error the entity must be a Welcome
  await queue.enqueue({ processor: SendWelcome, entity: { email: 42 } });
  // @ts-expect-error the entity misses `email`
  await queue.enqueue({ processor: SendWelcome, entity: {} });
  // @ts-expect-error `name` must be a string (valibot's input type)
  await queue.enqueue({ processor: Greet, entity: { name: 1 } });
  await queue.enqueueBatch({ processor: SendWelcome, entities: [{ email: 'a@b.c' }] });
  // @ts-expect-error every entity of a batch must be a Welcome
  await queue.enqueueBatch({ processor: SendWelcome, entities: [{ email: 'a@b.c' }, { mail: 1 }] });
  // The string and method forms keep taking any entity.
  await queue.enqueue({ processor: 'types.untyped', entity: { anything: true } });
  await queue.enqueue({ processor: Handlers.prototype.untyped, entity: 1 });

  const job = await queue.getJob('id', SendWelcome);
  const sentAt: number | undefined = job?.result?.sentAt;
  const email: string | undefined = job?.entity?.email;
  // @ts-expect-error the result is a Receipt, which has no `email`
  const wrong: string | undefined = job?.result?.email;
  const untyped = await queue.getJob('id');
  assertType<Equals<typeof untyped, Awaited<ReturnType<QueueManager['getJob']>>>>();
  void [sentAt, email, wrong];
}
