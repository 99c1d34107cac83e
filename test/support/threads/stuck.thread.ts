import type { ThreadJobContext } from '../../../libs/queue-system/src/index.js';

/** Spins forever on its first attempt: only terminating the thread can stop it. */
export default function stuck(_entity: unknown, context: ThreadJobContext) {
  if (context.attempt === 1) {
    for (;;) {
      // a synchronous loop no signal can reach
    }
  }
  return 'second attempt finished';
}
