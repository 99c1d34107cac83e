import { Injectable, Logger } from '@nestjs/common';
import {
  OnFailure,
  OnSuccess,
  Processor,
  type FailureCallbackPayload,
  type JobContext,
  type SuccessCallbackPayload,
} from 'nest-queue-system';
import { MailerService, type Mail } from './mailer.service.js';

/** What an `email.send` job carries: the message and the order it is about. */
export interface EmailJob extends Mail {
  orderId: string;
}

export interface EmailResult {
  recipient: string;
  messageId: string;
}

@Injectable()
export class EmailProcessor {
  private readonly logger = new Logger(EmailProcessor.name);

  constructor(private readonly mailer: MailerService) {}

  // Mail providers throttle per connection, so a few at a time is enough.
  @Processor('email.send', { concurrency: 5 })
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
