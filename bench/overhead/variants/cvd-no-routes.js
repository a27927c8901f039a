// Ablation: cvd-activity's register with its route extraction switched off
// (RouteInstrumentation never enables its hooks), so the per-framework bench
// can tell what route extraction itself costs. Bench-only; not a setting.
const { RouteInstrumentation } = require('../../../dist/instrumentation/routes/RouteInstrumentation.js');

RouteInstrumentation.prototype.enable = function enable() {};
require('../../../dist/register.js');
