import { Module } from '@nestjs/common';
import { QueueModule } from 'nest-queue-system';
import { EmailProcessor } from './email.processor.js';
import { InvoiceProcessor } from './invoice.processor.js';
import { MailerService } from './mailer.service.js';
import { OrdersController } from './orders.controller.js';

/** The queue itself comes from the global `QueueModule.forRootAsync` in `AppModule`. */
@Module({
  imports: [
    // CPU-bound: runs in the worker-thread pool, not on the event loop serving HTTP.
    QueueModule.registerThreadProcessors({
      name: 'invoice.pdf',
      file: new URL('./invoice-pdf.thread.mjs', import.meta.url),
    }),
  ],
  controllers: [OrdersController],
  providers: [MailerService, EmailProcessor, InvoiceProcessor],
})
export class OrdersModule {}
