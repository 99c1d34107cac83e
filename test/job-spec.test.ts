import { describe, expect, it, vi } from 'vitest';
import {
  encodeJobSpecHeader,
  fetchLeases,
  parseFetchedJob,
  parseJobHash,
} from '../libs/queue-system/src/redis/job-spec.js';

const fetch = fetchLeases('w', 1_000);
const header = encodeJobSpecHeader({
  processor: 'mail',
  enqueuedAt: 5,
  serializer: 'json',
  onSuccess: 'sent',
  retry: '',
});

/** One job as the fetch script returns it: id, spec, attempt. */
function fetched(id: string, spec: string, attempt: number | (string | number)[] = 1) {
  return parseFetchedJob([id, spec, attempt], 0, 'mail', 'normal', fetch);
}

describe('job spec header', () => {
  it('is the JSON array of the options with its trailing defaults left out, whatever is set', () => {
    const specs = [
      { processor: 'mail', enqueuedAt: 1_764_170_000_123, serializer: 'json', retry: '' },
      { processor: 'mail', enqueuedAt: 5, serializer: 'json', onSuccess: 'sent', retry: '' },
      { processor: 'a"b', enqueuedAt: 7, serializer: 'msgpack', retry: '', tenant: 't1' },
      {
        processor: 'mail',
        enqueuedAt: 9,
        serializer: 'json',
        onFailure: 'lost',
        timeout: 500,
        maxAttempts: 3,
        retry: '{"strategy":"fixed"}',
      },
      {
        processor: 'mail',
        enqueuedAt: 11,
        serializer: 'json',
        retry: '',
        traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      {
        processor: 'mail',
        enqueuedAt: 12,
        serializer: 'json',
        retry: '',
        tenant: 't2',
        traceContext: {
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          tracestate: 'k=v',
        },
      },
    ];
    const expected = [
      '["mail",1764170000123]',
      '["mail",5,null,"sent"]',
      '["a\\"b",7,"msgpack",null,null,null,null,null,"t1"]',
      '["mail",9,null,null,"lost",500,3,"{\\"strategy\\":\\"fixed\\"}"]',
      '["mail",11,null,null,null,null,null,null,null,"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]',
      '["mail",12,null,null,null,null,null,null,"t2",{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","tracestate":"k=v"}]',
    ];
    specs.forEach((spec, i) => {
      const text = encodeJobSpecHeader(spec);
      expect(text).toBe(`${expected[i]}\n`);
      expect(fetched('x', `${text}{}`)).toMatchObject({ ...spec, payload: '{}' });
    });
  });
});

describe('job spec parsing', () => {
  it('reads jobs that share a header, each with its own entity', () => {
    const a = fetched('a', `${header}{"n":1}`);
    const b = fetched('b', `${header}{"n":2}`, ['3', '700', '1', '0']);
    expect(a).toMatchObject({
      id: 'a',
      processor: 'mail',
      onSuccess: 'sent',
      enqueuedAt: 5,
      payload: '{"n":1}',
      attempts: 1,
      firstAttemptAt: 1_000,
      lease: 'w@1000:1',
      stalls: 0,
    });
    expect(b).toMatchObject({
      id: 'b',
      onSuccess: 'sent',
      payload: '{"n":2}',
      attempts: 3,
      firstAttemptAt: 700,
      stalls: 1,
      lease: 'w@1000:3',
    });
    expect(a.specError).toBeUndefined();
    expect(b.specError).toBeUndefined();
  });

  it('refuses an unreadable header even right after a readable one', () => {
    fetched('good', `${header}{}`);
    expect(fetched('empty-header', '\n{}').specError).toMatch(/JSON|Unexpected/);
    expect(fetched('not-an-array', '{"a":1}\n{}').specError).toMatch(/not a \[processor/);
    expect(fetched('no-spec', '').specError).toMatch(/no spec/);
    // No line break: the payload is read as the header, and must not reach the error.
    const noBreak = fetched('no-break', '["known", ada@example.com');
    expect(noBreak.specError).toBe(
      'the header line of the job\'s "spec" is not valid JSON (SyntaxError)',
    );
    // The same prefix as the good header, one character longer: not mistaken for it.
    expect(fetched('longer', `${header.slice(0, -1)}x\n{}`).specError).toBeDefined();
  });

  it('refuses an empty header as the first spec a process reads', async () => {
    vi.resetModules();
    const fresh = await import('../libs/queue-system/src/redis/job-spec.js');
    const job = fresh.parseFetchedJob(['first', '\n{}', 1], 0, 'mail', 'normal', fetch);
    expect(job.specError).toBeDefined();
  });

  it('names the queue after the processor unless the hash names it, as version 2 hashes do', () => {
    expect(parseJobHash('a', { spec: `${header}{}` })).toMatchObject({
      queue: 'mail',
      processor: 'mail',
    });
    expect(parseJobHash('b', { spec: `${header}{}`, queue: 'bulk-mail' })).toMatchObject({
      queue: 'bulk-mail',
      processor: 'mail',
    });
    // Version 2: null for a processor named like its queue, and always a `queue` field.
    expect(parseJobHash('c', { spec: '[null,5]\n{}', queue: 'mail' })).toMatchObject({
      queue: 'mail',
      processor: 'mail',
      enqueuedAt: 5,
    });
  });
});
