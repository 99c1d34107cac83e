/** Lines the worker child writes on stdout start with this; everything else goes to stderr. */
export const PROTOCOL_PREFIX = '@fault ';

/** `@fault ready <QueueWorker.id>`: the app has booted and its worker consumes. */
export const READY = `${PROTOCOL_PREFIX}ready `;
