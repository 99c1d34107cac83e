import { Injectable, Logger } from '@nestjs/common';
import {
  OnFailure,
  OnSuccess,
  Processor,
  type FailureCallbackPayload,
  type JobContext,
  type SuccessCallbackPayload,
} from 'nest-queue-system';
import { SendEmail, type EmailJob, type EmailResult } from './email.job.js';
import { MailerService } from './mailer.service.js';

@Injectable()
export class EmailProcessor {
  private readonly logger = new Logger(EmailProcessor.name);

  constructor(private readonly mailer: MailerService) {}

  // Mail providers throttle per connection, so a few at a time is enough.
  @Processor(SendEmail, { concurrency: 5 })
  async send(job: EmailJob, ctx: JobContext): Promise<EmailResult> {
    const { orderId: _orderId, ...mail } = job;
    const sent = await this.mailer.send(mail, ctx.signal);
    return { recipient: sent.to, messageId: sent.messageId };
  }

  @OnSuccess('email.sent')
  onSent({ entity, result }: SuccessCallbackPayload<EmailJob, EmailResult>): void {
    this.logger.log(`Order ${entity.orderId}: confirmation delivered to ${result.recipient}`);
  }

  @OnFailure('email.failed')
  onFailed({ entity, error, operationId }: FailureCallbackPayload<EmailJob>): void {
    // Retries are exhausted here: someone has to look at it (job ${operationId} is in failures).
    this.logger.error(
      `Order ${entity.orderId}: confirmation to ${entity.to} failed for good (job ${operationId}): ${error}`,
    );
  }
}
