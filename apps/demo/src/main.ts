import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { maskUrlPassword } from 'nest-queue-system';
import { EmbeddedRedis } from '../../../libs/embedded-redis/src/embedded-redis.js';
import { AppModule } from './app.module.js';

const logger = new Logger('Demo');
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

async function bootstrap(): Promise<void> {
  // Without REDIS_URL the demo brings its own redis-server, so `npm start` needs no setup.
  let embedded: EmbeddedRedis | undefined;
  if (!process.env.REDIS_URL) {
    const dataDir = fileURLToPath(new URL('../../../.redis-data/demo', import.meta.url));
    embedded = await new EmbeddedRedis({ dataDir, detached: true }).start();
    process.env.REDIS_URL = embedded.url;
    logger.log(`Started an embedded redis-server on ${embedded.url} (data in ${dataDir})`);
  }

  let app: INestApplication;
  try {
    app = await NestFactory.create(AppModule);
    app.enableShutdownHooks();
    // Loopback unless HOST says otherwise: a demo should not be reachable from the network by default.
    await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  if (embedded) stopRedisAfterApp(app, embedded);

  logger.log(`Demo listening on ${await app.getUrl()}`);
  logger.log(`Queue Redis: ${maskUrlPassword(process.env.REDIS_URL)}`);
}

/**
 * Nest closes the app on a signal, then re-raises it to end the process, leaving no moment to
 * stop our redis-server. Our own listener joins the same shutdown (`app.close()` awaits the
 * one in flight), stops Redis only after the queue connections are closed, then ends the
 * process with the signal; while it is registered, Nest's re-raised signal lands here.
 */
function stopRedisAfterApp(app: INestApplication, redis: EmbeddedRedis): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void app
      .close()
      .catch((error: unknown) => logger.error('Shutdown failed', describe(error)))
      .then(() => redis.stop())
      .finally(() => {
        for (const s of SIGNALS) process.removeListener(s, onSignal);
        process.kill(process.pid, signal);
      });
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function describe(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : String(error);
}

bootstrap().catch((error: unknown) => {
  logger.error('Demo failed to start', describe(error));
  process.exit(1);
});
