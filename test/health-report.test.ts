import { describe, expect, it } from 'vitest';
import {
  healthReport,
  type HealthStatus,
} from '../libs/queue-system/src/health/namespace-health.js';

const onTerminus =
  (terminusHasDegraded: boolean, degradedIsDown?: boolean) => (status: HealthStatus) =>
    healthReport(status, { terminusHasDegraded, degradedIsDown });

// What the indicator answers for each status, on a terminus with `degraded` (12) and without (11).
describe('the health status a terminus version gets', () => {
  it('terminus 12: degraded stays degraded (HTTP 200), and down on request', () => {
    expect(onTerminus(true)('degraded')).toEqual({ status: 'degraded', degradedFlag: false });
    expect(onTerminus(true, true)('degraded')).toEqual({ status: 'down', degradedFlag: false });
  });

  it('terminus 11: degraded is up with degraded: true in the data, and down on request', () => {
    expect(onTerminus(false)('degraded')).toEqual({ status: 'up', degradedFlag: true });
    expect(onTerminus(false, true)('degraded')).toEqual({ status: 'down', degradedFlag: false });
  });

  it('up and down are the same on both, whatever degradedIsDown says', () => {
    for (const hasDegraded of [true, false]) {
      for (const degradedIsDown of [undefined, false, true]) {
        const report = onTerminus(hasDegraded, degradedIsDown);
        expect(report('up')).toEqual({ status: 'up', degradedFlag: false });
        expect(report('down')).toEqual({ status: 'down', degradedFlag: false });
      }
    }
  });
});
