import {
  BadRequestException,
  Body,
  Get,
  Header,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { PAGE_HEADERS, readAsset, readPage } from './dashboard-assets.js';
import { csrfCookie, csrfToken } from './dashboard-csrf.js';
import { escapeHtml, nodeRequest, requestPath, setHeader } from './dashboard-http.js';
import { DashboardNamespaces } from './dashboard-namespaces.js';
import { DashboardReader } from './dashboard-reader.js';

const DEAD_LETTER_LISTS = ['failures', 'system_errors'] as const;
type DeadLetterList = (typeof DEAD_LETTER_LISTS)[number];

/**
 * The dashboard's routes. The module declares a subclass of it at the configured path, with
 * the guards; every route is a thin call of `DashboardReader` or of `QueueManager`.
 */
export abstract class DashboardController {
  constructor(
    @Inject(DashboardNamespaces) private readonly namespaces: DashboardNamespaces,
    @Inject(DashboardReader) private readonly reader: DashboardReader,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(@Req() request: unknown, @Res({ passthrough: true }) response: unknown) {
    const node = nodeRequest(request);
    const base = requestPath(node);
    const { token, isNew } = csrfToken(node);
    for (const [name, value] of Object.entries(PAGE_HEADERS)) setHeader(response, name, value);
    if (isNew) setHeader(response, 'Set-Cookie', csrfCookie(token, base, node));
    return readPage(escapeHtml(`${base}/`), token);
  }

  @Get('assets/:file')
  async asset(@Param('file') file: string, @Res({ passthrough: true }) response: unknown) {
    const asset = await readAsset(file);
    if (!asset) throw new NotFoundException();
    setHeader(response, 'Content-Type', asset.type);
    setHeader(response, 'Cache-Control', 'no-cache');
    setHeader(response, 'X-Content-Type-Options', 'nosniff');
    return asset.body;
  }

  @Get('api/overview')
  @Header('Cache-Control', 'no-store')
  overview(@Query('namespace') namespace?: string) {
    return this.reader.overview(this.namespaces.get(namespace));
  }

  @Get('api/dead-letters')
  @Header('Cache-Control', 'no-store')
  deadLetters(
    @Query('namespace') namespace?: string,
    @Query('from') from?: string,
    @Query('start') start?: string,
    @Query('count') count?: string,
  ) {
    const manager = this.namespaces.get(namespace);
    return this.reader.deadLetters(
      manager,
      deadLetterList(from),
      integer('start', start, 0, 1_000_000, 0),
      integer('count', count, 1, 100, 20),
    );
  }

  @Get('api/jobs/:id')
  @Header('Cache-Control', 'no-store')
  async job(@Param('id') id: string, @Query('namespace') namespace?: string) {
    const job = await this.reader.job(this.namespaces.get(namespace), id);
    if (!job) throw new NotFoundException('No such job');
    return job;
  }

  @Post('api/queues/:queue/pause')
  @HttpCode(200)
  async pause(@Param('queue') queue: string, @Body() body: unknown) {
    const paused = await this.namespaces.get(field(body, 'namespace')).pauseQueue(queue);
    return { queue, paused: true, changed: paused };
  }

  @Post('api/queues/:queue/resume')
  @HttpCode(200)
  async resume(@Param('queue') queue: string, @Body() body: unknown) {
    const resumed = await this.namespaces.get(field(body, 'namespace')).resumeQueue(queue);
    return { queue, paused: false, changed: resumed };
  }

  /** Retries the listed dead letters, or every one of the list with `all: true`. */
  @Post('api/dead-letters/retry')
  @HttpCode(200)
  async retry(@Body() body: unknown) {
    const manager = this.namespaces.get(field(body, 'namespace'));
    const from = deadLetterList(field(body, 'from'));
    const ids = field(body, 'operationIds');
    if (field(body, 'all') === true) return { retried: await manager.retryFailed({ from }) };
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1_000 || !ids.every(isId)) {
      throw new BadRequestException(
        '"operationIds" must list 1 to 1,000 job ids, or "all" be true',
      );
    }
    return { retried: await manager.retryFailed({ from, operationIds: ids }) };
  }
}

function field(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}

function deadLetterList(value: unknown): DeadLetterList {
  if (value === undefined || value === '') return 'failures';
  if (DEAD_LETTER_LISTS.includes(value as DeadLetterList)) return value as DeadLetterList;
  throw new BadRequestException(`"from" must be one of ${DEAD_LETTER_LISTS.join(', ')}`);
}

function integer(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
  fallback: number,
) {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new BadRequestException(`"${name}" must be an integer from ${min} to ${max}`);
  }
  return number;
}
