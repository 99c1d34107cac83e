// The `nest-queue-system/health` entry. Kept apart from the main entry because it loads
// `@nestjs/terminus`, an optional peer: an app without terminus imports the main entry safely.
export { QueueHealthIndicator, type QueueHealthOptions } from './queue.health.js';
