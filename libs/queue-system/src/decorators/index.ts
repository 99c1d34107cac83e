export * from './inject-queue.decorator.js';
export * from './on-failure.decorator.js';
export * from './on-success.decorator.js';
export * from './processor.decorator.js';
export * from './scheduled.decorator.js';
export * from './on-queue-event.decorator.js';
