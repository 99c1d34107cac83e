import 'reflect-metadata';
import { Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  afterEach,
  beforeEach,
  describe,
  expect,
  expectTypeOf,
  it,
  vi,
  type MockInstance,
} from 'vitest';
import {
  CircuitOpenError,
  OperationTimeoutError,
  PermanentError,
  Processor,
  ResilienceOptionError,
  ResilienceTargetError,
  circuitBreaker,
  getCircuitState,
  retryWithBackoff,
  tryCatch,
  withTimeout,
} from '../libs/queue-system/src/index.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects the first `failures` calls with `Error('fail <n>')`, then resolves with `value`. */
function flaky<V>(failures: number, value: V) {
  const calls: number[] = [];
  const errors: Error[] = [];
  const fn = async (): Promise<V> => {
    calls.push(performance.now());
    if (calls.length <= failures) {
      const error = new Error(`fail ${calls.length}`);
      errors.push(error);
      throw error;
    }
    return value;
  };
  const gaps = () => calls.slice(1).map((at, i) => at - calls[i]!);
  return { fn, calls, errors, gaps };
}

/** Whether `promise` settles before any timer could fire: with no wait at all. */
function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, new Promise<boolean>((resolve) => setImmediate(resolve, false))]);
}

async function elapsed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await promise;
    return { ms: performance.now() - start, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describe('withTimeout', () => {
  it('function form rejects with OperationTimeoutError after about the ms', async () => {
    let lookupEnded = false;
    const slowLookup = withTimeout(50, async function slowLookup() {
      await sleep(300);
      lookupEnded = true;
      return 'late';
    });
    const { ms, error } = await elapsed(slowLookup());
    expect(error).toBeInstanceOf(OperationTimeoutError);
    expect(error).toMatchObject({ operation: 'slowLookup', timeoutMs: 50 });
    expect(ms).toBeGreaterThanOrEqual(45);
    // Rejected at its timeout, before the slow call ended.
    expect(lookupEnded).toBe(false);
  });

  it('function form passes a fast result through, with this and the arguments', async () => {
    const counter = {
      base: 10,
      add: withTimeout(100, async function (this: { base: number }, a: number, b: number) {
        await sleep(5);
        return this.base + a + b;
      }),
    };
    expectTypeOf(counter.add).parameters.toEqualTypeOf<[number, number]>();
    expectTypeOf(counter.add).returns.toEqualTypeOf<Promise<number>>();
    await expect(counter.add(1, 2)).resolves.toBe(13);
  });

  it("function form passes the function's own error through unchanged", async () => {
    const boom = new Error('boom');
    const failing = withTimeout(100, async () => {
      throw boom;
    });
    await expect(failing()).rejects.toBe(boom);
  });

  it('decorator form rejects with the typed error naming Class.method', async () => {
    let slowEnded = false;
    class Gateway {
      @withTimeout(40)
      async slow(): Promise<string> {
        await sleep(300);
        slowEnded = true;
        return 'late';
      }

      @withTimeout(200)
      async fast(value: string): Promise<string> {
        await sleep(5);
        return value.toUpperCase();
      }
    }
    const gateway = new Gateway();
    const { ms, error } = await elapsed(gateway.slow());
    expect(error).toBeInstanceOf(OperationTimeoutError);
    expect(error).toMatchObject({ operation: 'Gateway.slow', timeoutMs: 40 });
    expect((error as Error).message).toBe('Gateway.slow timed out after 40 ms');
    expect(ms).toBeGreaterThanOrEqual(35);
    expect(slowEnded).toBe(false);
    await expect(gateway.fast('ok')).resolves.toBe('OK');
  });
});

describe('retryWithBackoff', () => {
  it('function form succeeds after N failures with exponentially increasing gaps', async () => {
    const target = flaky(3, 'done');
    const call = retryWithBackoff({ maxRetries: 3, initialDelay: 20, jitter: false }, target.fn);
    await expect(call()).resolves.toBe('done');
    expect(target.calls).toHaveLength(4);
    const [first, second, third] = target.gaps();
    expect(first).toBeGreaterThanOrEqual(18);
    expect(second).toBeGreaterThanOrEqual(38);
    expect(third).toBeGreaterThanOrEqual(78);
    expect(second).toBeGreaterThan(first!);
    expect(third).toBeGreaterThan(second!);
  });

  it('default jitter keeps each delay between half and all of the exponential delay', async () => {
    const target = flaky(2, 'done');
    // The delays as scheduled: a wall-clock gap says when a timer fired, not what was asked.
    const timers = vi.spyOn(globalThis, 'setTimeout');
    let delays: number[];
    try {
      await expect(retryWithBackoff({ initialDelay: 40 }, target.fn)()).resolves.toBe('done');
    } finally {
      delays = timers.mock.calls.map(([, ms]) => ms ?? 0);
      timers.mockRestore();
    }
    const [first, second] = target.gaps();
    expect(first).toBeGreaterThanOrEqual(18);
    expect(second).toBeGreaterThanOrEqual(38);
    expect(delays).toHaveLength(2);
    const [firstDelay, secondDelay] = delays;
    expect(firstDelay).toBeGreaterThanOrEqual(20);
    expect(firstDelay).toBeLessThan(40);
    expect(secondDelay).toBeGreaterThanOrEqual(40);
    expect(secondDelay).toBeLessThan(80);
  });

  it('function form stops at maxRetries and rethrows the last error unchanged', async () => {
    const target = flaky(10, 'never');
    const call = retryWithBackoff({ maxRetries: 2, initialDelay: 10 }, target.fn);
    const { error } = await elapsed(call());
    expect(target.calls).toHaveLength(3);
    expect(error).toBe(target.errors[2]);
  });

  it('function form does not retry a PermanentError', async () => {
    let calls = 0;
    const declined = new PermanentError('card declined');
    const charge = retryWithBackoff({ maxRetries: 3, initialDelay: 10 }, async () => {
      calls++;
      throw declined;
    });
    await expect(charge()).rejects.toBe(declined);
    expect(calls).toBe(1);
  });

  it('function form retries only the errors retryOn accepts', async () => {
    let calls = 0;
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const get = retryWithBackoff(
      { initialDelay: 10, retryOn: (error) => (error as { status?: number }).status !== 404 },
      async () => {
        calls++;
        throw notFound;
      },
    );
    await expect(get()).rejects.toBe(notFound);
    expect(calls).toBe(1);
  });

  it('decorator form retries the method with this preserved, and stops at maxRetries', async () => {
    class Inventory {
      readonly attempts: string[] = [];
      constructor(private readonly failures: number) {}

      @retryWithBackoff({ maxRetries: 2, initialDelay: 10 })
      async reserve(sku: string): Promise<string> {
        this.attempts.push(sku);
        if (this.attempts.length <= this.failures) throw new Error(`fail ${this.attempts.length}`);
        return `reserved ${sku}`;
      }
    }
    const recovering = new Inventory(2);
    await expect(recovering.reserve('a1')).resolves.toBe('reserved a1');
    expect(recovering.attempts).toEqual(['a1', 'a1', 'a1']);

    const broken = new Inventory(5);
    await expect(broken.reserve('b2')).rejects.toThrow('fail 3');
    expect(broken.attempts).toHaveLength(3);
  });

  it('decorator form does not retry a PermanentError', async () => {
    class Payments {
      calls = 0;
      @retryWithBackoff({ maxRetries: 3, initialDelay: 10 })
      async charge(): Promise<void> {
        this.calls++;
        throw new PermanentError('card declined');
      }
    }
    const payments = new Payments();
    await expect(payments.charge()).rejects.toBeInstanceOf(PermanentError);
    expect(payments.calls).toBe(1);
  });
});

describe('circuitBreaker', () => {
  it('function form opens after threshold consecutive failures, then refuses without calling', async () => {
    let calls = 0;
    const boom = new Error('remote down');
    const ping = circuitBreaker({ threshold: 3, recoveryTimeout: 10_000 }, async function ping() {
      calls++;
      throw boom;
    });
    expect(getCircuitState(ping)).toBe('closed');
    for (let i = 0; i < 3; i++) await expect(ping()).rejects.toBe(boom);
    expect(getCircuitState(ping)).toBe('open');

    const refused = ping();
    // Refused at once: before any timer or I/O could run.
    expect(await settlesAtOnce(refused)).toBe(true);
    const { error } = await elapsed(refused);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ circuitName: 'ping' });
    await expect(ping()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(3);
  });

  it('a success resets the count of consecutive failures', async () => {
    let fail = true;
    const call = circuitBreaker({ threshold: 2, recoveryTimeout: 10_000 }, async () => {
      if (fail) throw new Error('boom');
      return 'ok';
    });
    await expect(call()).rejects.toThrow('boom');
    fail = false;
    await expect(call()).resolves.toBe('ok');
    fail = true;
    await expect(call()).rejects.toThrow('boom');
    expect(getCircuitState(call)).toBe('closed');
  });

  it('function form half-opens after recoveryTimeout and closes on success', async () => {
    let healthy = false;
    let calls = 0;
    const fetchRate = circuitBreaker(
      { threshold: 2, recoveryTimeout: 80, name: 'rates' },
      async () => {
        calls++;
        if (!healthy) throw new Error('remote down');
        return 1.1;
      },
    );
    await expect(fetchRate()).rejects.toThrow('remote down');
    await expect(fetchRate()).rejects.toThrow('remote down');
    await expect(fetchRate()).rejects.toMatchObject({
      name: 'CircuitOpenError',
      circuitName: 'rates',
    });
    expect(calls).toBe(2);

    await sleep(100);
    healthy = true;
    await expect(fetchRate()).resolves.toBe(1.1);
    expect(calls).toBe(3);
    expect(getCircuitState(fetchRate)).toBe('closed');
    await expect(fetchRate()).resolves.toBe(1.1);
  });

  it('a failed trial call opens the circuit again', async () => {
    let calls = 0;
    const call = circuitBreaker({ threshold: 1, recoveryTimeout: 50 }, async () => {
      calls++;
      throw new Error('still down');
    });
    await expect(call()).rejects.toThrow('still down');
    await sleep(70);
    await expect(call()).rejects.toThrow('still down');
    expect(getCircuitState(call)).toBe('open');
    await expect(call()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(2);
  });

  it('decorator form: one circuit per method, shared by all instances, recovering after the timeout', async () => {
    class Mailer {
      static healthy = false;
      static calls = 0;

      @circuitBreaker({ threshold: 2, recoveryTimeout: 80 })
      async send(to: string): Promise<string> {
        Mailer.calls++;
        if (!Mailer.healthy) throw new Error('smtp down');
        return `sent to ${to}`;
      }
    }
    const first = new Mailer();
    const second = new Mailer();
    await expect(first.send('a')).rejects.toThrow('smtp down');
    await expect(first.send('a')).rejects.toThrow('smtp down');
    expect(getCircuitState(first.send)).toBe('open');
    expect(getCircuitState(second.send)).toBe('open');

    const { error } = await elapsed(second.send('b'));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ circuitName: 'Mailer.send' });
    expect(Mailer.calls).toBe(2);

    await sleep(100);
    Mailer.healthy = true;
    await expect(second.send('b')).resolves.toBe('sent to b');
    expect(getCircuitState(first.send)).toBe('closed');
    expect(Mailer.calls).toBe(3);
  });

  it('getCircuitState sees through wrappers stacked above the breaker', () => {
    class Client {
      @tryCatch({ rethrow: true })
      @circuitBreaker({ threshold: 2 })
      async call(): Promise<void> {}
    }
    expect(getCircuitState(new Client().call)).toBe('closed');
    expect(getCircuitState(async () => undefined)).toBeUndefined();
  });
});

describe('tryCatch', () => {
  let logged: MockInstance<Logger['error']>;
  beforeEach(() => {
    logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  const loggedContexts = () =>
    logged.mock.contexts.map((logger) => (logger as unknown as { context?: string }).context);

  it('function form returns the fallback value, logs the error and calls onError', async () => {
    const boom = new Error('boom');
    const onError = vi.fn<(error: unknown) => void>();
    const loadPrefs = tryCatch({ fallback: null, onError }, async function loadPrefs(id: number) {
      if (id > 0) throw boom;
      return { theme: 'dark' };
    });
    expectTypeOf(loadPrefs).returns.toEqualTypeOf<Promise<{ theme: string } | null>>();
    await expect(loadPrefs(1)).resolves.toBeNull();
    expect(onError).toHaveBeenCalledExactlyOnceWith(boom);
    expect(logged).toHaveBeenCalledOnce();
    expect(logged.mock.calls[0]![0]).toBe('loadPrefs failed: Error: boom');
    expect(loggedContexts()).toEqual(['loadPrefs']);
    await expect(loadPrefs(0)).resolves.toEqual({ theme: 'dark' });
    expect(onError).toHaveBeenCalledOnce();
  });

  it('function form computes the fallback from the error when it is a function', async () => {
    const explain = tryCatch({ fallback: (error: unknown) => `failed: ${String(error)}` }, () => {
      throw new Error('nope');
    });
    expectTypeOf(explain).returns.toEqualTypeOf<Promise<string>>();
    await expect(explain()).resolves.toBe('failed: Error: nope');
  });

  it('function form rethrows the error unchanged when asked, after logging and onError', async () => {
    const boom = new Error('boom');
    const onError = vi.fn<(error: unknown) => void>();
    const save = tryCatch({ rethrow: true, onError }, async (n: number) => {
      if (n) throw boom;
      return n;
    });
    expectTypeOf(save).returns.toEqualTypeOf<Promise<number>>();
    await expect(save(1)).rejects.toBe(boom);
    expect(onError).toHaveBeenCalledExactlyOnceWith(boom);
    expect(logged).toHaveBeenCalledOnce();
  });

  it('decorator form returns the fallback, logs under Class.method, calls onError, rethrows when asked', async () => {
    const errors: unknown[] = [];
    class Reports {
      constructor(private readonly rows: string[] | undefined) {}

      @tryCatch({ fallback: [] as string[], onError: (error) => void errors.push(error) })
      async list(): Promise<string[]> {
        if (!this.rows) throw new Error('db down');
        return this.rows;
      }

      @tryCatch({ rethrow: true })
      async strict(): Promise<string[]> {
        throw new Error('strict failure');
      }

      @tryCatch()
      async maybe(): Promise<string | undefined> {
        throw new Error('maybe not');
      }
    }
    await expect(new Reports(['r1']).list()).resolves.toEqual(['r1']);
    await expect(new Reports(undefined).list()).resolves.toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'db down' });
    await expect(new Reports(undefined).strict()).rejects.toThrow('strict failure');
    await expect(new Reports(undefined).maybe()).resolves.toBeUndefined();
    expect(loggedContexts()).toEqual(['Reports.list', 'Reports.strict', 'Reports.maybe']);
  });

  it('decorator form refuses, at compile time, a fallback the method result cannot hold', () => {
    class Counter {
      // @ts-expect-error a string fallback does not fit Promise<number>
      @tryCatch({ fallback: 'none' })
      async count(): Promise<number> {
        return 1;
      }

      // @ts-expect-error without a fallback the result must admit undefined
      @tryCatch()
      async total(): Promise<number> {
        return 2;
      }
    }
    expect(new Counter()).toBeInstanceOf(Counter);
  });
});

describe('resilience decorators on Nest providers', () => {
  @Injectable()
  class RatesApi {
    calls = 0;
    async rate(currency: string): Promise<number> {
      this.calls++;
      if (this.calls < 3) throw new Error('rates api hiccup');
      return currency === 'EUR' ? 1.1 : 1;
    }
  }

  @Injectable()
  class PricingService {
    constructor(readonly rates: RatesApi) {}

    // Bottom-up: the timeout bounds each attempt, the retries run inside one circuit call.
    @circuitBreaker({ threshold: 5, recoveryTimeout: 1_000 })
    @retryWithBackoff({ maxRetries: 3, initialDelay: 10 })
    @withTimeout(200)
    async priceIn(currency: string, amount: number): Promise<number> {
      return amount * (await this.rates.rate(currency));
    }
  }

  it('a decorated method of an @Injectable() provider uses its injected dependency through this', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [RatesApi, PricingService],
    }).compile();
    const pricing = moduleRef.get(PricingService);
    expect(pricing.rates).toBe(moduleRef.get(RatesApi));
    await expect(pricing.priceIn('EUR', 10)).resolves.toBeCloseTo(11);
    expect(moduleRef.get(RatesApi).calls).toBe(3);
    expect(getCircuitState(pricing.priceIn)).toBe('closed');
    await moduleRef.close();
  });

  it('@Processor() stacked with @retryWithBackoff() keeps its metadata, in either order', async () => {
    @Injectable()
    class ExportJobs {
      attempts = 0;

      @Processor('x')
      @retryWithBackoff({ maxRetries: 1, initialDelay: 5 })
      async exportAbove(): Promise<number> {
        this.attempts++;
        if (this.attempts % 2 === 1) throw new Error('first try fails');
        return this.attempts;
      }

      @retryWithBackoff({ maxRetries: 1, initialDelay: 5 })
      @Processor('x.below', { concurrency: 2 })
      async exportBelow(): Promise<string> {
        return 'below';
      }
    }
    const moduleRef = await Test.createTestingModule({ providers: [ExportJobs] }).compile();
    const jobs = moduleRef.get(ExportJobs);
    const reflector = new Reflector();

    expect(Reflect.getMetadata('queue:processor', jobs.exportAbove)).toMatchObject({ name: 'x' });
    expect(Reflect.getMetadata('queue:processor', jobs.exportBelow)).toMatchObject({
      name: 'x.below',
      concurrency: 2,
    });
    expect(reflector.get('queue:processor', jobs.exportBelow)).toMatchObject({ name: 'x.below' });
    expect(jobs.exportAbove.name).toBe('exportAbove');
    // The function carrying the metadata is the retrying wrapper.
    await expect(jobs.exportAbove()).resolves.toBe(2);
    await moduleRef.close();
  });
});

describe('resilience helper misuse', () => {
  it('invalid options throw ResilienceOptionError when the helper is applied', () => {
    expect(() => withTimeout(0)).toThrow(ResilienceOptionError);
    expect(() => withTimeout(Number.POSITIVE_INFINITY)).toThrow(ResilienceOptionError);
    expect(() => retryWithBackoff({ maxRetries: -1 })).toThrow(ResilienceOptionError);
    expect(() => retryWithBackoff({ initialDelay: 500, maxDelay: 100 })).toThrow(
      /retryWithBackoff option "maxDelay" = 100/,
    );
    expect(() => circuitBreaker({ threshold: 0 })).toThrow(ResilienceOptionError);
  });

  it('a decorator on something that is not a method throws ResilienceTargetError', () => {
    class Settings {
      get ready(): boolean {
        return true;
      }
    }
    const getter = Object.getOwnPropertyDescriptor(Settings.prototype, 'ready')!;
    expect(() =>
      withTimeout(10)(
        Settings.prototype,
        'ready',
        getter as TypedPropertyDescriptor<() => Promise<unknown>>,
      ),
    ).toThrow(new ResilienceTargetError('withTimeout', 'Settings.ready'));
  });
});
