import { Controller, Get, Header } from '@nestjs/common';
import { QueueMetrics } from 'nest-queue-system/metrics';
import { register } from 'prom-client';

/** Prometheus scrapes the app's registry here: the queue's metrics and any the app adds. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly queueMetrics: QueueMetrics) {}

  @Get()
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return this.queueMetrics.metrics();
  }
}
