import { PermanentError } from '../../../libs/queue-system/src/errors.js';

class InvoiceTemplateError extends Error {
  override name = 'InvoiceTemplateError';
}

/** Fails the way the entity asks: a custom error class, a PermanentError, or a result that cannot cross threads. */
export default function fail(entity: { mode: 'custom' | 'permanent' | 'uncloneable' }) {
  if (entity.mode === 'custom') throw new InvoiceTemplateError('template "net-30" is missing');
  if (entity.mode === 'permanent') throw new PermanentError('customer account is closed');
  return { render: () => 'functions cannot be cloned' };
}
