import { booleanOption, fraction, keysOf, rejectUnknownKeys } from './validate.js';

export interface QueueMetricsOptions {
  enabled?: boolean;
  /** Relative change (0..1) of a metric worth a log line: 0.1 logs changes above 10%. */
  logThreshold?: number;
}

export interface QueueMetricsConfigJSON {
  enabled: boolean;
  logThreshold: number;
}

const KEYS = keysOf<QueueMetricsOptions>({ enabled: true, logThreshold: true });

export class QueueMetricsConfig {
  readonly enabled: boolean;
  readonly logThreshold: number;

  constructor(options: QueueMetricsOptions = {}) {
    rejectUnknownKeys('metrics', options, KEYS);
    this.enabled = booleanOption('metrics.enabled', options.enabled, true);
    this.logThreshold = fraction('metrics.logThreshold', options.logThreshold, 0.1);
    Object.freeze(this);
  }

  toJSON(): QueueMetricsConfigJSON {
    return { enabled: this.enabled, logThreshold: this.logThreshold };
  }
}
