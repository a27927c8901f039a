/** Financial operations: DEX imports, reports, exports and prices. */
import { count, dateRange, details, fileFormat, ident, looseObject, money, text } from './schema';
import type { ActionSpec } from './schema';

/** Sales data and money. PRICE_CHANGE is the one price action (see product.ts). */
export const financialActions = {
  DEX_UPLOAD: {
    category: 'financial',
    severity: 'medium',
    resourceType: 'dex_file',
    description: 'A DEX sales file was imported.',
    details: details({ file_name: text, records_processed: count, records_rejected: count, device_id: ident }, ['file_name', 'records_processed']),
    affectedRecordsFrom: 'records_processed',
    example: { resourceId: 'dex-20250107-311', details: { file_name: 'DEX_311_20250107.txt', records_processed: 212, records_rejected: 0, device_id: 'dev-311' } },
  },
  SALES_REPORT_VIEW: {
    category: 'financial',
    severity: 'medium',
    resourceType: 'report',
    description: 'A sales report was viewed.',
    details: details({ date_range: dateRange, filters: looseObject }, ['date_range', 'filters']),
    example: { resourceId: 'sales-by-device', details: { date_range: { from: '2024-12-01', to: '2024-12-31' }, filters: { region: 'north' } } },
  },
  REVENUE_EXPORT: {
    category: 'financial',
    severity: 'high',
    resourceType: 'report',
    description: 'Revenue data left the system as a file.',
    details: details({ format: fileFormat, date_range: dateRange, record_count: count }, ['format', 'date_range']),
    affectedRecordsFrom: 'record_count',
    example: { resourceId: 'revenue-monthly', details: { format: 'xlsx', date_range: { from: '2024-01-01', to: '2024-12-31' }, record_count: 12 } },
  },
  PRICE_CHANGE: {
    category: 'financial',
    severity: 'high',
    resourceType: 'product',
    description: 'A selling price changed (the review also calls it PRODUCT_PRICE_CHANGE).',
    details: details({ product: ident, old_price: money, new_price: money, currency: { type: 'string', pattern: '^[A-Z]{3}$' }, device_id: ident }, [
      'product',
      'old_price',
      'new_price',
    ]),
    example: { resourceId: 'p-water-500', details: { product: 'p-water-500', old_price: 1.5, new_price: 1.75, currency: 'EUR' } },
  },
  PRICING_STRATEGY_CHANGE: {
    category: 'financial',
    severity: 'high',
    resourceType: 'pricing_strategy',
    description: 'A pricing rule or strategy changed (before/after in oldValue/newValue).',
    details: details({ strategy: text, scope: text, products_affected: count }, ['strategy', 'scope']),
    affectedRecordsFrom: 'products_affected',
    example: {
      resourceId: 'ps-weekend',
      details: { strategy: 'weekend surcharge', scope: 'region:north', products_affected: 140 },
      oldValue: { surcharge_pct: 5 },
      newValue: { surcharge_pct: 8 },
    },
  },
  REVENUE_REPORT_GENERATE: {
    category: 'financial',
    severity: 'medium',
    resourceType: 'report',
    description: 'A revenue report was generated.',
    details: details({ report_type: text, date_range: dateRange, filters: looseObject }, ['report_type', 'date_range']),
    example: { resourceId: 'rr-2024-q4', details: { report_type: 'quarterly', date_range: { from: '2024-10-01', to: '2024-12-31' } } },
  },
} as const satisfies Record<string, ActionSpec>;
