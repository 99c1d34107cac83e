import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  StreamableFile,
} from '@nestjs/common';
import { InjectQueue, QueueManager, type JobInfo, type QueueStatus } from 'nest-queue-system';
import { SendEmail, type EmailJob } from './email.job.js';
import type { InvoiceJob, OrderItem } from './invoice.processor.js';

export interface OrderAccepted {
  orderId: string;
  emailJobId: string;
  invoiceJobId: string;
  pdfJobId: string;
}

const MAX_ITEMS = 100;

@Controller()
export class OrdersController {
  constructor(@InjectQueue() private readonly queue: QueueManager) {}

  /** Accepts the order and leaves the slow parts (mail, invoice) to the queue: 202, not 201. */
  @Post('orders')
  @HttpCode(HttpStatus.ACCEPTED)
  async create(@Body() body: unknown): Promise<OrderAccepted> {
    const order = parseOrder(body);
    const orderId = randomUUID();
    const email: EmailJob = {
      orderId,
      to: order.customerEmail,
      subject: `Order ${orderId} confirmed`,
      text: `Thank you for your order of ${order.items.length} item(s). Your invoice follows.`,
    };
    const invoice: InvoiceJob = { orderId, ...order };
    // The customer waits for the confirmation (the contract's priority is high); the invoice
    // can wait behind it.
    const emailJob = await this.queue.enqueue({
      entity: email,
      processor: SendEmail,
      onSuccess: 'email.sent',
      onFailure: 'email.failed',
    });
    const invoiceJob = await this.queue.enqueue({
      entity: invoice,
      processor: 'invoice.render',
      priority: 'normal',
    });
    const pdfJob = await this.queue.enqueue({
      entity: invoice,
      processor: 'invoice.pdf',
      priority: 'low',
    });
    return {
      orderId,
      emailJobId: emailJob.operationId,
      invoiceJobId: invoiceJob.operationId,
      pdfJobId: pdfJob.operationId,
    };
  }

  @Get('jobs/:id')
  async job(@Param('id') id: string): Promise<JobInfo> {
    const job = await this.queue.getJob(id);
    if (!job) throw new NotFoundException(`No job ${id} (never existed or expired)`);
    return job;
  }

  /** The invoice PDF rendered by the thread pool, once its job completed. */
  @Get('jobs/:id/pdf')
  @Header('content-type', 'application/pdf')
  async pdf(@Param('id') id: string): Promise<StreamableFile> {
    const job = await this.queue.getJob<unknown, { pdfBase64?: string }>(id);
    if (!job?.result?.pdfBase64) throw new NotFoundException(`No rendered PDF for job ${id}`);
    return new StreamableFile(Buffer.from(job.result.pdfBase64, 'base64'));
  }

  @Get('queues/status')
  status(): Promise<QueueStatus> {
    return this.queue.getQueueStatus();
  }
}

/** Minimal hand-written validation: the demo has no class-validator, and the rules are few. */
function parseOrder(body: unknown): Omit<InvoiceJob, 'orderId'> {
  const problems: string[] = [];
  const input = isRecord(body) ? body : {};
  if (!isRecord(body)) problems.push('body must be a JSON object');

  const { customerEmail, items } = input;
  if (typeof customerEmail !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(customerEmail)) {
    problems.push('customerEmail must be an email address');
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ITEMS) {
    problems.push(`items must be an array of 1 to ${MAX_ITEMS} items`);
  }
  const parsed: OrderItem[] = [];
  (Array.isArray(items) ? items : []).forEach((item: unknown, i) => {
    const { sku, quantity, unitPrice } = isRecord(item) ? item : {};
    if (typeof sku !== 'string' || sku.trim() === '') {
      problems.push(`items[${i}].sku must be a non-empty string`);
    }
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
      problems.push(`items[${i}].quantity must be a positive integer`);
    }
    if (typeof unitPrice !== 'number' || !Number.isFinite(unitPrice) || unitPrice < 0) {
      problems.push(`items[${i}].unitPrice must be a non-negative number`);
    }
    parsed.push({ sku: String(sku), quantity: Number(quantity), unitPrice: Number(unitPrice) });
  });
  if (problems.length > 0) throw new BadRequestException(problems);
  return { customerEmail: customerEmail as string, items: parsed };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
