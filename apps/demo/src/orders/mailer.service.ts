import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface SentMail extends Mail {
  messageId: string;
  sentAt: Date;
}

/**
 * Stands in for an SMTP or API mailer: it keeps what it "sent" in memory and logs it, so the
 * demo runs without an account anywhere. Swap it for a real transport in a real app.
 */
@Injectable()
export class MailerService {
  private readonly logger = new Logger(MailerService.name);
  private readonly outbox: SentMail[] = [];

  async send(mail: Mail, signal?: AbortSignal): Promise<SentMail> {
    // A real transport is a network call: honour the job's abort signal the same way.
    signal?.throwIfAborted();
    const sent: SentMail = {
      ...mail,
      messageId: `<${randomUUID()}@demo.local>`,
      sentAt: new Date(),
    };
    this.outbox.push(sent);
    this.logger.log(`Sent "${mail.subject}" to ${mail.to} (${sent.messageId})`);
    return sent;
  }

  sent(): readonly SentMail[] {
    return this.outbox;
  }
}
