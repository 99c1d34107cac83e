// Type-level tests of contracts in `waitForResult` and the testing kit's `runProcessor`:
// compiled by `tsc -p tsconfig.json --noEmit` (npm test), never run. Each `@ts-expect-error`
// fails the compile when the line it marks compiles.
import { z } from 'zod';
import { defineJob, type QueueManager } from '../../libs/queue-system/src/index.js';
import { runProcessor, type QueueAppRef } from '../../libs/queue-system/src/testing/index.js';

interface Welcome {
  email: string;
}
interface Receipt {
  sentAt: number;
}

const SendWelcome = defineJob<Welcome, Receipt>('types.kit.welcome');
const ParseCount = defineJob('types.kit.count', { schema: z.object({ count: z.coerce.number() }) });

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

export async function waiting(queue: QueueManager): Promise<void> {
  const receipt = await queue.waitForResult('id', { timeout: 1000 }, SendWelcome);
  assertType<Equals<typeof receipt, Receipt>>();
  // @ts-expect-error the result is a Receipt, which has no `email`
  const wrong: string = receipt.email;
  // The generic form stays, and without one the result is unknown.
  const given = await queue.waitForResult<{ ok: boolean }>('id', { timeout: 1000 });
  assertType<Equals<typeof given, { ok: boolean }>>();
  const untyped = await queue.waitForResult('id', { timeout: 1000 });
  assertType<Equals<typeof untyped, unknown>>();
  // @ts-expect-error a contract is not an options object
  await queue.waitForResult('id', SendWelcome);
  void wrong;
}

export async function testing(app: QueueAppRef): Promise<void> {
  const receipt = await runProcessor(app, SendWelcome, { email: 'ada@example.com' });
  assertType<Equals<typeof receipt, Receipt>>();
  // @ts-expect-error the entity must be a Welcome
  await runProcessor(app, SendWelcome, { email: 42 });
  // @ts-expect-error the entity misses `email`
  await runProcessor(app, SendWelcome, {});
  // A schema's input is what the kit takes, as enqueue does.
  await runProcessor(app, ParseCount, { count: '3' }, { attempt: 2 });
  // @ts-expect-error the schema's input has `count`
  await runProcessor(app, ParseCount, { amount: 3 });
  // The name form takes any entity; its result is what the caller says, unknown by default.
  const named = await runProcessor<number>(app, 'types.kit.welcome', { anything: true });
  assertType<Equals<typeof named, number>>();
  const plain = await runProcessor(app, 'types.kit.welcome', 1);
  assertType<Equals<typeof plain, unknown>>();
}
