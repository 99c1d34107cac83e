/**
 * Burns the CPU for about `entity.ms` milliseconds, like rendering or hashing would. Returns
 * when it ran (wall clock, comparable across threads) so that tests can see overlaps.
 */
export default function burn(entity, context) {
  const startedAt = Date.now();
  const until = performance.now() + entity.ms;
  let spins = 0;
  while (performance.now() < until) spins++;
  return {
    operationId: context.operationId,
    attempt: context.attempt,
    spins: spins > 0,
    startedAt,
    endedAt: Date.now(),
  };
}
