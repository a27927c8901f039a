/** Products, their prices and categories, and warehouse stock adjustments. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import type { Fleet, Product } from './fleet';
import { found, num, objectBody, oneOf, str } from './input';
import type { Router } from './router';

/** Registers the product, price and inventory routes. */
export function catalogRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  const editors = ['admin', 'manager'];

  router.on('GET', '/api/products', auth.guard([], () => ({ json: [...fleet.products.values()] })));

  router.on('POST', '/api/products', auth.guard(editors, (req) => {
    const body = objectBody(req.body);
    const product: Product = {
      id: fleet.nextId('prd'), name: str(body, 'name'), category: str(body, 'category'),
      priceCents: num(body, 'priceCents', 1, 100_000), active: true,
    };
    fleet.products.set(product.id, product);
    fleet.inventory.set(product.id, 0);
    audit.record('PRODUCT_CREATE', {
      resourceType: 'product', resourceId: product.id,
      details: { product_name: product.name, category: product.category, price: product.priceCents / 100 },
      newValue: product,
    });
    return { status: 201, json: product };
  }));

  router.on('PATCH', '/api/products/:id', auth.guard(editors, (req) => {
    const product = found(fleet.products, req.params.id, 'product');
    const body = objectBody(req.body);
    const before = { ...product };
    if (body.name !== undefined) product.name = str(body, 'name');
    if (body.category !== undefined) product.category = str(body, 'category');
    // A category move has its own action (dashboards group products by category); anything else is an update.
    if (before.category !== product.category) {
      audit.record('CATEGORY_CHANGE', {
        resourceType: 'product', resourceId: product.id,
        details: { product: product.id, old_category: before.category, new_category: product.category },
        oldValue: { category: before.category }, newValue: { category: product.category },
      });
    }
    if (before.name !== product.name) {
      audit.record('PRODUCT_UPDATE', {
        resourceType: 'product', resourceId: product.id,
        details: { product_name: product.name, changed_fields: ['name'] },
        oldValue: { name: before.name }, newValue: { name: product.name },
      });
    }
    return { json: product };
  }));

  router.on('DELETE', '/api/products/:id', auth.guard(['admin'], (req) => {
    const product = found(fleet.products, req.params.id, 'product');
    fleet.products.delete(product.id);
    audit.record('PRODUCT_DELETE', {
      resourceType: 'product', resourceId: product.id, details: { product_name: product.name }, oldValue: product,
    });
    return { status: 204, body: '', headers: {} };
  }));

  router.on('PUT', '/api/products/:id/price', auth.guard(editors, (req) => {
    const product = found(fleet.products, req.params.id, 'product');
    const price = num(objectBody(req.body), 'priceCents', 1, 100_000);
    const before = product.priceCents;
    product.priceCents = price;
    audit.record('PRICE_CHANGE', {
      resourceType: 'product', resourceId: product.id,
      details: { product: product.id, old_price: before / 100, new_price: price / 100, currency: String(fleet.settings.currency) },
      oldValue: { price_cents: before }, newValue: { price_cents: price },
    });
    return { json: product };
  }));

  router.on('POST', '/api/inventory/:productId/adjust', auth.guard(['admin', 'manager', 'driver'], (req) => {
    const product = found(fleet.products, req.params.productId, 'product');
    const body = objectBody(req.body);
    const reason = oneOf(body, 'reason', ['recount', 'spoilage', 'damage', 'theft', 'other'] as const);
    const before = fleet.inventory.get(product.id) ?? 0;
    // Stock cannot go below zero: a larger shrinkage empties it.
    const after = Math.max(0, before + num(body, 'delta', -10_000, 10_000));
    fleet.inventory.set(product.id, after);
    audit.record('INVENTORY_ADJUST', {
      resourceType: 'inventory', resourceId: `warehouse-1/${product.id}`,
      details: { product: product.id, location: 'warehouse-1', quantity_change: after - before, new_quantity: after, reason },
      oldValue: { quantity: before }, newValue: { quantity: after },
    });
    return { json: { productId: product.id, quantity: after } };
  }));
}
