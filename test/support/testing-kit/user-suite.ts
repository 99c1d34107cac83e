// A user's suite in miniature, run in a process of its own: it must end by itself once the
// testing module is closed (no server, socket or timer left behind).
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Processor, QueueManager } from '../../../libs/queue-system/src/index.js';
import {
  QueueTestingModule,
  QueueTestingRedis,
  runProcessor,
  waitForIdle,
} from '../../../libs/queue-system/src/testing/index.js';

@Injectable()
class EchoJobs {
  readonly seen: number[] = [];

  @Processor('kit.echo')
  echo(entity: { n: number }) {
    this.seen.push(entity.n);
    return entity.n;
  }
}

const moduleRef = await Test.createTestingModule({
  imports: [QueueTestingModule.forRoot({ logging: { level: 'error' } })],
  providers: [EchoJobs],
}).compile();
await moduleRef.init();
await moduleRef.get(QueueManager).enqueue({ processor: 'kit.echo', entity: { n: 1 } });
await waitForIdle(moduleRef);
const direct = await runProcessor(moduleRef, 'kit.echo', { n: 2 });
const { url } = moduleRef.get(QueueTestingRedis);
await moduleRef.close();

console.log(
  JSON.stringify({
    url,
    seen: moduleRef.get(EchoJobs).seen,
    direct,
    resources: process.getActiveResourcesInfo(),
  }),
);
