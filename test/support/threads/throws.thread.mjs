class InvoiceTemplateError extends Error {
  name = 'InvoiceTemplateError';
}

/** An error marked permanent, as a thread module without the library's classes would throw it. */
function permanent(message) {
  const error = new Error(message);
  error.name = 'PermanentError';
  error.permanent = true;
  return error;
}

/** Fails the way the entity asks: a custom error class, a permanent error, or a result that cannot cross threads. */
export default function fail(entity) {
  if (entity.mode === 'custom') throw new InvoiceTemplateError('template "net-30" is missing');
  if (entity.mode === 'permanent') throw permanent('customer account is closed');
  return { render: () => 'functions cannot be cloned' };
}
