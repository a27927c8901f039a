/**
 * Products and inventory. Price changes are NOT here: the review names both
 * PRODUCT_PRICE_CHANGE and PRICE_CHANGE for the same fact; the catalog keeps
 * one, PRICE_CHANGE (financial group), so dashboards and alerts count one name.
 * INVENTORY_ADJUST is a correction of counted stock (shrinkage, a recount);
 * STOCK_UPDATE is a fill level set while servicing a device.
 */
import { count, details, fieldList, ident, money, text } from './schema';
import type { ActionSpec } from './schema';

/** The product catalog and stock levels. */
export const productActions = {
  PRODUCT_CREATE: {
    category: 'product',
    severity: 'medium',
    resourceType: 'product',
    description: 'A product was added to the catalog.',
    details: details({ product_name: text, category: text, price: money }, ['product_name', 'category']),
    example: { resourceId: 'p-water-500', details: { product_name: 'Still water 500 ml', category: 'beverages', price: 1.5 } },
  },
  PRODUCT_UPDATE: {
    category: 'product',
    severity: 'medium',
    resourceType: 'product',
    description: 'A product was changed (price: PRICE_CHANGE; category: CATEGORY_CHANGE).',
    details: details({ product_name: text, changed_fields: fieldList }, ['product_name', 'changed_fields']),
    example: {
      resourceId: 'p-water-500',
      details: { product_name: 'Still water 500 ml', changed_fields: ['barcode'] },
      oldValue: { barcode: '4001' },
      newValue: { barcode: '4002' },
    },
  },
  PRODUCT_DELETE: {
    category: 'product',
    severity: 'high',
    resourceType: 'product',
    description: 'A product was removed from the catalog.',
    details: details({ product_name: text, reason: text }, ['product_name']),
    example: { resourceId: 'p-cola-330', details: { product_name: 'Cola 330 ml', reason: 'discontinued' } },
  },
  INVENTORY_ADJUST: {
    category: 'inventory',
    severity: 'medium',
    resourceType: 'inventory',
    description: 'Counted stock was corrected (shrinkage, spoilage, recount).',
    details: details(
      { product: ident, location: text, quantity_change: { type: 'integer' }, new_quantity: count, reason: { enum: ['recount', 'spoilage', 'damage', 'theft', 'other'] } },
      ['product', 'location', 'quantity_change', 'new_quantity', 'reason'],
    ),
    example: { resourceId: 'wh-1/p-water-500', details: { product: 'p-water-500', location: 'warehouse-1', quantity_change: -6, new_quantity: 114, reason: 'spoilage' } },
  },
  STOCK_UPDATE: {
    category: 'inventory',
    severity: 'low',
    resourceType: 'device',
    description: "A slot's stock level was set while servicing a device.",
    details: details({ slot: text, product: ident, old_quantity: count, new_quantity: count }, ['slot', 'product', 'old_quantity', 'new_quantity']),
    example: { resourceId: 'dev-311', details: { slot: 'A3', product: 'p-water-500', old_quantity: 2, new_quantity: 12 } },
  },
  CATEGORY_CHANGE: {
    category: 'product',
    severity: 'low',
    resourceType: 'product',
    description: 'A product moved to another category.',
    details: details({ product: ident, old_category: text, new_category: text }, ['product', 'old_category', 'new_category']),
    example: { resourceId: 'p-water-500', details: { product: 'p-water-500', old_category: 'beverages', new_category: 'water' } },
  },
} as const satisfies Record<string, ActionSpec>;
