/** Planograms: which product sits in which slot at what par level, templates, and applying an AI optimization. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import type { Fleet, Planogram, Slot } from './fleet';
import { found, num, objectBody, str } from './input';
import type { Router } from './router';

function slotOf(planogram: Planogram, code: string): Slot {
  return found(new Map(planogram.slots.map((s) => [s.code, s])), code, `slot of planogram ${planogram.id}`);
}

/** Registers the planogram routes. */
export function planogramRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  const editors = ['admin', 'manager'];

  router.on('GET', '/api/planograms/:id', auth.guard([], (req) => ({ json: found(fleet.planograms, req.params.id, 'planogram') })));

  router.on('PUT', '/api/planograms/:id/slots/:code', auth.guard(editors, (req) => {
    const planogram = found(fleet.planograms, req.params.id, 'planogram');
    const slot = slotOf(planogram, req.params.code);
    const product = found(fleet.products, str(objectBody(req.body), 'productId'), 'product');
    const before = { ...slot };
    slot.productId = product.id;
    audit.record('PLANOGRAM_UPDATE', {
      resourceType: 'planogram', resourceId: planogram.id,
      details: { slot: slot.code, old_product: before.productId, new_product: product.id, par_level: slot.parLevel },
      oldValue: before, newValue: { ...slot },
    });
    return { json: slot };
  }));

  router.on('PUT', '/api/planograms/:id/slots/:code/par-level', auth.guard(editors, (req) => {
    const planogram = found(fleet.planograms, req.params.id, 'planogram');
    const slot = slotOf(planogram, req.params.code);
    const parLevel = num(objectBody(req.body), 'parLevel', 0, slot.capacity);
    const before = slot.parLevel;
    slot.parLevel = parLevel;
    audit.record('PAR_LEVEL_CHANGE', {
      resourceType: 'planogram', resourceId: planogram.id,
      details: { slot: slot.code, product: slot.productId, old_par_level: before, new_par_level: parLevel },
      oldValue: { par_level: before }, newValue: { par_level: parLevel },
    });
    return { json: slot };
  }));

  router.on('PUT', '/api/planogram-templates/:id', auth.guard(editors, (req) => {
    const template = found(fleet.templates, req.params.id, 'planogram template');
    const body = objectBody(req.body);
    const before = { name: template.name, version: template.version, slots: template.slotCodes.length };
    if (body.name !== undefined) template.name = str(body, 'name');
    template.version += 1;
    const changed = before.name === template.name ? ['version'] : ['name', 'version'];
    const affected = [...fleet.planograms.values()].filter((p) => p.templateId === template.id).length;
    audit.record('PLANOGRAM_TEMPLATE_UPDATE', {
      resourceType: 'planogram_template', resourceId: template.id,
      details: { template_name: template.name, changed_fields: changed, devices_affected: affected },
      oldValue: before, newValue: { name: template.name, version: template.version, slots: template.slotCodes.length },
      affectedRecords: affected,
    });
    return { json: template };
  }));

  // The "AI" proposes raising par levels of the slots that sell best; applying it is what gets audited.
  router.on('POST', '/api/planograms/:id/optimize/apply', auth.guard(editors, (req) => {
    const planogram = found(fleet.planograms, req.params.id, 'planogram');
    const before = planogram.slots.map((s) => ({ ...s }));
    const changes = planogram.slots
      .filter((_, i) => i % 3 === 0)
      .map((slot) => {
        const old = slot.parLevel;
        slot.parLevel = Math.min(slot.capacity, old + 2);
        return { slot: slot.code, old_par_level: old, new_par_level: slot.parLevel };
      });
    audit.record('PLANOGRAM_OPTIMIZE', {
      resourceType: 'planogram', resourceId: planogram.id,
      details: { model: 'demand-forecast-v2', slots_changed: changes.length, expected_revenue_change_pct: 4.5 },
      oldValue: before, newValue: planogram.slots, affectedRecords: changes.length,
    });
    return { json: { planogram: planogram.id, changes } };
  }));
}
