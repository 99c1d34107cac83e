import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueueConfig, QueueConfigError } from '../libs/queue-system/src/index.js';
import { QueueTracing } from '../libs/queue-system/src/tracing/queue-tracing.js';

describe('tracing without @opentelemetry/api installed', () => {
  afterEach(() => {
    vi.doUnmock('@opentelemetry/api');
  });

  it('is never loaded while tracing is off', async () => {
    vi.doMock('@opentelemetry/api', () => {
      throw new Error("Cannot find package '@opentelemetry/api'");
    });
    await expect(QueueTracing.load(new QueueConfig())).resolves.toBeUndefined();
  });

  it('refuses to boot with tracing on, naming tracing.enabled', async () => {
    vi.doMock('@opentelemetry/api', () => {
      throw new Error("Cannot find package '@opentelemetry/api'");
    });
    const loading = QueueTracing.load(new QueueConfig({ tracing: true }));
    await expect(loading).rejects.toThrow(QueueConfigError);
    await expect(loading).rejects.toThrow(/tracing\.enabled.*@opentelemetry\/api/);
  });
});
