export * from './job-options.interface.js';
export * from './processor.interface.js';
export * from './queue-status.interface.js';
export * from './tenant.interface.js';
