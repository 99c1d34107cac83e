/** Burns the CPU for about `entity.ms` milliseconds, like rendering or hashing would. */
export default function burn(entity, context) {
  const until = performance.now() + entity.ms;
  let spins = 0;
  while (performance.now() < until) spins++;
  return { operationId: context.operationId, attempt: context.attempt, spins: spins > 0 };
}
