/** Financial data: DEX file uploads, the sales report and its CSV/PDF export. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import { prng, type Fleet } from './fleet';
import { HttpError, type Router } from './router';

interface SalesRow { date: string; device: string; units: number; revenueCents: number }

const DAY_MS = 86_400_000;

function dateRange(query: URLSearchParams): { from: string; to: string; days: number } {
  const from = query.get('from') ?? '2026-11-01';
  const to = query.get('to') ?? '2026-11-07';
  const days = Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1;
  if (!Number.isFinite(days) || days < 1 || days > 400) {
    throw new HttpError(400, 'INVALID_DATE_RANGE', `from=${from} to=${to} must be ISO dates, from <= to, at most 400 days apart`);
  }
  return { from, to, days };
}

/** One row per device and day: the sales a DEX import would have produced. */
function salesRows(fleet: Fleet, from: string, days: number, status: string | null): SalesRow[] {
  const rand = prng(days * 31 + from.length);
  const devices = [...fleet.devices.values()].filter((d) => !status || d.status === status);
  const rows: SalesRow[] = [];
  for (let day = 0; day < days; day++) {
    const date = new Date(Date.parse(from) + day * DAY_MS).toISOString().slice(0, 10);
    for (const device of devices) {
      const units = Math.floor(rand() * 40);
      rows.push({ date, device: device.name, units, revenueCents: units * (150 + Math.floor(rand() * 200)) });
    }
  }
  return rows;
}

/** A one-page PDF that states the totals; enough for a download of the right type. */
function pdf(title: string, lines: string[]): string {
  const text = [title, ...lines].map((l, i) => `BT /F1 11 Tf 50 ${780 - i * 16} Td (${l.replace(/[()\\]/g, '')}) Tj ET`).join('\n');
  return `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n`
    + `3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n`
    + `4 0 obj << /Length ${text.length} >> stream\n${text}\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
}

/** Registers the DEX and sales report routes. */
export function financeRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  // DEX/UCS: one record per line, `*`-separated; PA1 = slot price, PA2 = units and value sold.
  router.on('POST', '/api/dex', auth.guard(['admin', 'manager', 'driver'], (req) => {
    const text = typeof req.body === 'string' ? req.body : '';
    const fileName = req.query.get('file') ?? 'upload.dex';
    const lines = text.split(/\r?\n/).filter(Boolean);
    const machine = lines.find((l) => l.startsWith('ID1*'))?.split('*')[1] ?? null;
    const sales = lines.filter((l) => l.startsWith('PA2*')).length;
    if (!lines[0]?.startsWith('DXS*') || !machine) {
      audit.record('DEX_UPLOAD', {
        resourceType: 'dex_file', resourceId: fileName, outcome: 'failure', reason: 'not a DEX file (no DXS header or ID1 record)',
        details: { file_name: fileName, records_processed: 0 },
      });
      throw new HttpError(422, 'INVALID_DEX', `${fileName}: not a DEX file (needs a DXS header and an ID1 record)`);
    }
    audit.record('DEX_UPLOAD', {
      resourceType: 'dex_file', resourceId: fileName,
      details: { file_name: fileName, records_processed: lines.length, device_id: machine },
    });
    return { status: 201, json: { file: fileName, machine, records: lines.length, sales } };
  }));

  router.on('GET', '/api/reports/sales', auth.guard(['admin', 'manager'], (req) => {
    const { from, to, days } = dateRange(req.query);
    const status = req.query.get('status');
    const rows = salesRows(fleet, from, days, status);
    audit.record('SALES_REPORT_VIEW', {
      resourceType: 'report', resourceId: 'sales',
      details: { date_range: { from, to }, filters: status ? { status } : {} },
    });
    const revenue = rows.reduce((n, r) => n + r.revenueCents, 0);
    return { json: { from, to, rows: rows.length, units: rows.reduce((n, r) => n + r.units, 0), revenueCents: revenue } };
  }));

  router.on('GET', '/api/reports/sales/export', auth.guard(['admin', 'manager'], (req) => {
    const { from, to, days } = dateRange(req.query);
    const format = req.query.get('format') ?? 'csv';
    if (format !== 'csv' && format !== 'pdf') throw new HttpError(400, 'INVALID_FORMAT', `format=${format}; allowed: csv, pdf`);
    const status = req.query.get('status');
    const rows = salesRows(fleet, from, days, status);
    const body = format === 'csv'
      ? ['date,device,units,revenue', ...rows.map((r) => `${r.date},${r.device},${r.units},${(r.revenueCents / 100).toFixed(2)}`)].join('\n') + '\n'
      : pdf(`Sales ${from} to ${to}`, [`rows: ${rows.length}`, `revenue: ${(rows.reduce((n, r) => n + r.revenueCents, 0) / 100).toFixed(2)}`]);
    audit.dataExport({ dataset: 'sales_report', format, recordCount: rows.length, filters: status ? { status } : {}, dateRange: { from, to } });
    return {
      body,
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/pdf',
        'content-disposition': `attachment; filename="sales-${from}-${to}.${format}"`,
      },
    };
  }));
}
