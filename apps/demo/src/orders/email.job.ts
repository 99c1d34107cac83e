import { defineJob } from 'nest-queue-system';
import type { Mail } from './mailer.service.js';

/** What an `email.send` job carries: the message and the order it is about. */
export interface EmailJob extends Mail {
  orderId: string;
}

export interface EmailResult {
  recipient: string;
  messageId: string;
}

/**
 * The confirmation email, shared by the controller that enqueues it and the processor that
 * sends it: both are typed by it. The customer waits for it, so it goes first.
 */
export const SendEmail = defineJob<EmailJob, EmailResult>('email.send', { priority: 'high' });
