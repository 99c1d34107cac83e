import { setTimeout as delay } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { Processor, type JobContext } from 'nest-queue-system';

export interface OrderItem {
  sku: string;
  quantity: number;
  /** Price of one unit, in the shop's currency. */
  unitPrice: number;
}

/** What an `invoice.render` job carries. */
export interface InvoiceJob {
  orderId: string;
  customerEmail: string;
  items: OrderItem[];
}

export interface RenderedInvoice {
  orderId: string;
  total: number;
  text: string;
}

@Injectable()
export class InvoiceProcessor {
  @Processor('invoice.render')
  async render(job: InvoiceJob, ctx: JobContext): Promise<RenderedInvoice> {
    const lines: string[] = [
      `Invoice for order ${job.orderId}`,
      `Customer: ${job.customerEmail}`,
      '',
    ];
    // Whole cents, so that 0.1 + 0.2 adds up on an invoice.
    let totalCents = 0;
    for (const item of job.items) {
      // Stands in for a slow step (PDF layout, a tax service): stop as soon as the attempt is aborted.
      await delay(5, undefined, { signal: ctx.signal });
      const lineCents = Math.round(item.unitPrice * 100) * item.quantity;
      totalCents += lineCents;
      lines.push(
        `${String(item.quantity).padStart(4)} x ${item.sku.padEnd(16)} @ ${money(item.unitPrice * 100)}  ${money(lineCents)}`,
      );
    }
    lines.push('', `Total: ${money(totalCents)}`);
    return { orderId: job.orderId, total: totalCents / 100, text: lines.join('\n') };
  }
}

function money(cents: number): string {
  return (Math.round(cents) / 100).toFixed(2).padStart(10);
}
