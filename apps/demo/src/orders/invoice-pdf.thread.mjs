// Runs in a pool thread (QueueModule.registerThreadProcessors): laying out and encoding a
// document is CPU work that would otherwise hold the event loop of the HTTP server.
// A thread module sees only its own imports, never Nest providers. Plain JavaScript, so that
// pool threads start without a TypeScript loader.

const PAGE_HEIGHT = 842;
const LINE_HEIGHT = 16;

/** Escapes text for a PDF string literal. */
function pdfText(text) {
  return text.replace(/[\\()]/g, (c) => `\\${c}`);
}

function invoiceLines(invoice) {
  const cents = invoice.items.reduce(
    (sum, item) => sum + item.quantity * Math.round(item.unitPrice * 100),
    0,
  );
  return [
    `Invoice for order ${invoice.orderId}`,
    `Customer: ${invoice.customerEmail}`,
    '',
    ...invoice.items.map(
      (item) =>
        `${String(item.quantity).padStart(4)} x ${item.sku.padEnd(20)} @ ${item.unitPrice.toFixed(2).padStart(10)}`,
    ),
    '',
    `Total: ${(cents / 100).toFixed(2)}`,
  ];
}

/** A one-page PDF 1.4 document with the invoice as text, built by hand (no dependency). */
export default function renderInvoicePdf(invoice) {
  const lines = invoiceLines(invoice);
  const content = [
    'BT /F1 11 Tf',
    ...lines.map(
      (line, i) => `1 0 0 1 56 ${PAGE_HEIGHT - 72 - i * LINE_HEIGHT} Tm (${pdfText(line)}) Tj`,
    ),
    'ET',
  ].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 ${PAGE_HEIGHT}] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>`,
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const offset = Buffer.byteLength(pdf);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = Buffer.byteLength(pdf);
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return { orderId: invoice.orderId, pages: 1, pdfBase64: Buffer.from(pdf).toString('base64') };
}
