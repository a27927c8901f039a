/**
 * Merges every configuration layer and validates the result once.
 *
 * Precedence, lowest to highest:
 *   1. defaults (`defaultConfig()`)
 *   2. the JSON file named by CVD_ACTIVITY_CONFIG
 *   3. CVD_ACTIVITY_* variables (and DATABASE_URL when it is a postgres:// URL)
 *   4. the standard OTEL_* variables
 *   5. options passed to `start()` in code
 * Objects (`noise`, `audit`, …, `resourceAttributes`) merge key by key; lists replace.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { ConfigError } from './ConfigError';
import type { ConfigProblem } from './ConfigError';
import { defaultConfig } from './defaults';
import { readCvdEnv, readOtelEnv } from './env';
import type { EnvValue } from './env';
import { configSchema } from './schema';
// ajv's standalone output for configSchema (npm run generate:config): start-up
// skips loading and running ajv's compiler.
import { validate as validateSchema } from './validateConfig.generated';
import type { CvdActivityConfig, CvdActivityOptions } from './types';

/** Where to read from; tests pass their own `env` and `cwd` instead of mutating the process. */
export interface LoadConfigContext {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Options whose value is an object merged key by key. */
const SECTIONS = new Set(['noise', 'redaction', 'audit', 'database', 'pipeline', 'resourceAttributes']);

type StandaloneValidate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

function validate(data: unknown): ErrorObject[] {
  const v = validateSchema as StandaloneValidate;
  return v(data) ? [] : [...(v.errors ?? [])];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits a file or options object into leaf values with their source. */
function leaves(obj: Record<string, unknown>, source: string): EnvValue[] {
  const out: EnvValue[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    if (SECTIONS.has(key) && isPlainObject(value)) {
      for (const [sub, v] of Object.entries(value)) if (v !== undefined) out.push({ path: [key, sub], source, value: v });
    } else {
      out.push({ path: [key], source, value });
    }
  }
  return out;
}

function readFileLayer(env: NodeJS.ProcessEnv, cwd: string, problems: ConfigProblem[]): EnvValue[] {
  const name = env.CVD_ACTIVITY_CONFIG?.trim();
  if (!name) return [];
  const path = resolve(cwd, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    problems.push({ key: 'CVD_ACTIVITY_CONFIG', source: 'env CVD_ACTIVITY_CONFIG', value: name, allowed: `a readable JSON file (${reason})` });
    return [];
  }
  if (!isPlainObject(parsed)) {
    problems.push({ key: '(file root)', source: `file ${path}`, value: parsed, allowed: 'a JSON object of options' });
    return [];
  }
  return leaves(parsed, `file ${path}`);
}

function schemaAt(path: string[]): Record<string, unknown> | undefined {
  let node: Record<string, unknown> | undefined = configSchema as unknown as Record<string, unknown>;
  for (const key of path) {
    const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
    node = props?.[key] ?? (isPlainObject(node?.additionalProperties) ? node.additionalProperties : undefined);
  }
  return node;
}

function valueAt(data: unknown, path: string[]): unknown {
  let v = data;
  for (const key of path) v = isPlainObject(v) ? v[key] : undefined;
  return v;
}

/** Turns ajv errors into one problem per option, naming its source and what is allowed. */
function toProblems(errors: ErrorObject[], data: unknown, origins: Map<string, string>): ConfigProblem[] {
  const byKey = new Map<string, ConfigProblem>();
  for (const error of errors) {
    const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (error.keyword === 'additionalProperties') {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      const parent = schemaAt(segments);
      const known = Object.keys((parent?.properties as object | undefined) ?? {}).join(', ');
      const key = [...segments, extra].join('.');
      byKey.set(key, { key, source: origins.get(key) ?? 'unknown', value: valueAt(data, [...segments, extra]), allowed: `no such option; known keys here: ${known}` });
      continue;
    }
    // One problem per option: `noise.dropPaths/3` is reported as `noise.dropPaths`.
    const depth = segments.length > 0 && SECTIONS.has(segments[0]) ? 2 : 1;
    const optionPath = segments.slice(0, depth);
    const key = optionPath.join('.') || '(config)';
    if (byKey.has(key)) continue;
    const schema = schemaAt(optionPath);
    const allowed = typeof schema?.description === 'string' ? schema.description : (error.message ?? 'a valid value');
    byKey.set(key, { key, source: origins.get(key) ?? 'default', value: valueAt(data, optionPath), allowed });
  }
  return [...byKey.values()];
}

/** Every layer merged over the defaults (unvalidated), with the source of each value. */
function mergeLayers(options: CvdActivityOptions, env: NodeJS.ProcessEnv, cwd: string, problems: ConfigProblem[]): { merged: Record<string, unknown>; origins: Map<string, string> } {
  const merged = defaultConfig(env) as unknown as Record<string, unknown>;
  const origins = new Map<string, string>();

  const layers: EnvValue[] = [
    ...readFileLayer(env, cwd, problems),
    ...readCvdEnv(env).map((v) => ({ ...v, source: `env ${v.source}` })),
    ...readOtelEnv(env).map((v) => ({ ...v, source: `env ${v.source}` })),
    ...(isPlainObject(options) ? leaves(options, 'start() options') : []),
  ];
  for (const { path, source, value } of layers) {
    let target = merged;
    for (const key of path.slice(0, -1)) {
      if (!isPlainObject(target[key])) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]] = value;
    origins.set(path.join('.'), source);
    if (path.length === 2) origins.set(path[0], origins.get(path[0]) ?? source);
  }

  return { merged, origins };
}

/** A validated merge as the typed config; relative spool and archive folders are relative to the working directory at start. */
function finish(merged: Record<string, unknown>, origins: Map<string, string>, cwd: string): CvdActivityConfig {
  const config = merged as unknown as CvdActivityConfig;
  // Metrics follow traces unless set: no OTLP metrics to a Collector nobody sends spans to.
  if (!origins.has('metricsExporter') && config.tracesExporter !== 'otlp') config.metricsExporter = 'none';
  if (!isAbsolute(config.pipeline.spoolDir)) config.pipeline.spoolDir = resolve(cwd, config.pipeline.spoolDir);
  const { archiveDir } = config.retention;
  if (archiveDir !== null && !isAbsolute(archiveDir)) config.retention.archiveDir = resolve(cwd, archiveDir);
  return config;
}

/** The merged, validated configuration; throws ConfigError naming every bad key, its source and value, and what is allowed. */
export function loadConfig(options: CvdActivityOptions = {}, context: LoadConfigContext = {}): CvdActivityConfig {
  const env = context.env ?? process.env;
  const cwd = context.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const { merged, origins } = mergeLayers(options, env, cwd, problems);
  problems.push(...toProblems(validate(merged), merged, origins));
  if (problems.length > 0) throw new ConfigError(problems);
  return finish(merged, origins, cwd);
}

/**
 * What to run the audit fallback with after loadConfig() threw: the same
 * layers with every invalid option back at its default. A bad sample ratio
 * must not send audit events to another spool folder than the one the app
 * configured (where its next, valid start looks for them) nor drop its own
 * redaction fields. Plain defaults when even that does not validate.
 */
export function fallbackConfig(options: CvdActivityOptions = {}, context: LoadConfigContext = {}): CvdActivityConfig {
  const env = context.env ?? process.env;
  const cwd = context.cwd ?? process.cwd();
  const defaults = defaultConfig(env) as unknown as Record<string, unknown>;
  const { merged, origins } = mergeLayers(options, env, cwd, []);
  for (const problem of toProblems(validate(merged), merged, origins)) {
    const path = problem.key.split('.');
    const parent = path.length === 1 ? merged : merged[path[0]];
    if (!isPlainObject(parent)) continue;
    const fallback = valueAt(defaults, path);
    if (fallback === undefined) delete parent[path[path.length - 1]];
    else parent[path[path.length - 1]] = fallback;
  }
  return validate(merged).length === 0 ? finish(merged, origins, cwd) : finish(defaults, new Map(), cwd);
}
