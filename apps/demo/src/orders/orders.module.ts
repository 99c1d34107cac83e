import { Module } from '@nestjs/common';
import { EmailProcessor } from './email.processor.js';
import { InvoiceProcessor } from './invoice.processor.js';
import { MailerService } from './mailer.service.js';
import { OrdersController } from './orders.controller.js';

/** The queue itself comes from the global `QueueModule.forRootAsync` in `AppModule`. */
@Module({
  controllers: [OrdersController],
  providers: [MailerService, EmailProcessor, InvoiceProcessor],
})
export class OrdersModule {}
