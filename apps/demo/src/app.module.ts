import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { QueueModule } from 'nest-queue-system';
import { QueueDashboardModule } from 'nest-queue-system/dashboard';
import { QueueHealthIndicator } from 'nest-queue-system/health';
import { QueueMetricsModule } from 'nest-queue-system/metrics';
import { HealthController } from './health/health.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { OrdersModule } from './orders/orders.module.js';

@Module({
  imports: [
    ConfigModule.forRoot(),
    QueueModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      // Environment values are strings: numbers are converted here, the queue config validates them.
      useFactory: (config: ConfigService) => ({
        redis: {
          url: config.getOrThrow<string>('REDIS_URL'),
          // Also the /health ping timeout: a Redis that does not answer in time is reported down.
          connectionTimeout: Number(config.get<string>('QUEUE_CONNECTION_TIMEOUT_MS') ?? 5000),
        },
        worker: {
          workerCount: Number(config.get<string>('QUEUE_WORKERS') ?? 5),
          // API pods enqueue only; worker pods consume.
          autoStart: config.get<string>('QUEUE_ROLE') !== 'api',
        },
      }),
    }),
    // prom-client's global registry, served at GET /metrics.
    QueueMetricsModule.forRoot({}),
    // The web dashboard at /queues/ui. The default credentials are for this demo only.
    QueueDashboardModule.forRootAsync({
      path: 'queues/ui',
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        auth: {
          username: config.get<string>('DASHBOARD_USER') ?? 'admin',
          password: config.get<string>('DASHBOARD_PASSWORD') ?? 'demo-only',
        },
      }),
    }),
    TerminusModule,
    OrdersModule,
  ],
  controllers: [HealthController, MetricsController],
  // Terminus' HealthIndicatorService comes from TerminusModule; the queue, worker and config from QueueModule.
  providers: [QueueHealthIndicator],
})
export class AppModule {}
