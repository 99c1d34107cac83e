import type { ThreadJobContext } from '../../../libs/queue-system/src/index.js';

/** Burns the CPU for about `ms` milliseconds, like rendering or hashing would. */
export default function burn(entity: { ms: number }, context: ThreadJobContext) {
  const until = performance.now() + entity.ms;
  let spins = 0;
  while (performance.now() < until) spins++;
  return { operationId: context.operationId, attempt: context.attempt, spins: spins > 0 };
}
