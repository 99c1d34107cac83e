/** Spins forever on its first attempt: only terminating the thread can stop it. */
export default function stuck(_entity, context) {
  if (context.attempt === 1) {
    for (;;) {
      // a synchronous loop no signal can reach
    }
  }
  return 'second attempt finished';
}
