/**
 * Planogram operations. The review's own example for PLANOGRAM_UPDATE (slot,
 * old product, new product, par level) is exactly a product placement, so
 * "product placement changes" are recorded as PLANOGRAM_UPDATE rather than
 * under a second name for the same fact.
 */
import { count, details, fieldList, ident, looseObject, text } from './schema';
import type { ActionSpec } from './schema';

/** Which product sits in which slot, at what par level. */
export const planogramActions = {
  PLANOGRAM_UPDATE: {
    category: 'planogram',
    severity: 'medium',
    resourceType: 'planogram',
    description: 'A product was placed in, replaced in or removed from a slot (product placement).',
    details: details({ slot: text, old_product: { anyOf: [ident, { type: 'null' }] }, new_product: { anyOf: [ident, { type: 'null' }] }, par_level: count }, [
      'slot',
      'old_product',
      'new_product',
      'par_level',
    ]),
    example: { resourceId: 'pg-88', details: { slot: 'A3', old_product: 'p-cola-330', new_product: 'p-water-500', par_level: 12 } },
  },
  PLANOGRAM_SLOT_UPDATE: {
    category: 'planogram',
    severity: 'low',
    resourceType: 'planogram',
    description: 'A slot was added, removed or reshaped (capacity, width, spiral).',
    details: details({ slot: text, change: { enum: ['added', 'removed', 'resized', 'reconfigured'] }, changed_fields: fieldList }, ['slot', 'change']),
    example: { resourceId: 'pg-88', details: { slot: 'A4', change: 'resized', changed_fields: ['capacity'] }, oldValue: { capacity: 10 }, newValue: { capacity: 8 } },
  },
  PAR_LEVEL_CHANGE: {
    category: 'planogram',
    severity: 'low',
    resourceType: 'planogram',
    description: "A slot's par level (target stock) changed.",
    details: details({ slot: text, product: ident, old_par_level: count, new_par_level: count }, ['slot', 'product', 'old_par_level', 'new_par_level']),
    example: { resourceId: 'pg-88', details: { slot: 'A3', product: 'p-water-500', old_par_level: 12, new_par_level: 15 } },
  },
  PLANOGRAM_TEMPLATE_UPDATE: {
    category: 'planogram',
    severity: 'medium',
    resourceType: 'planogram_template',
    description: 'A planogram template changed, possibly for many devices.',
    details: details({ template_name: text, changed_fields: fieldList, devices_affected: count }, ['template_name', 'changed_fields']),
    affectedRecordsFrom: 'devices_affected',
    example: { resourceId: 'tpl-office-snack', details: { template_name: 'Office snack 6x8', changed_fields: ['slots'], devices_affected: 23 } },
  },
  PLANOGRAM_OPTIMIZE: {
    category: 'planogram',
    severity: 'medium',
    resourceType: 'planogram',
    description: 'An AI optimization was applied to a planogram.',
    details: details({ model: text, slots_changed: count, expected_revenue_change_pct: { type: 'number' }, recommendation: looseObject }, [
      'model',
      'slots_changed',
    ]),
    affectedRecordsFrom: 'slots_changed',
    example: { resourceId: 'pg-88', details: { model: 'planogram-optimizer-v3', slots_changed: 5, expected_revenue_change_pct: 4.2 } },
  },
} as const satisfies Record<string, ActionSpec>;
