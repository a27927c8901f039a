/**
 * Small builders for Grafana dashboard JSON (schemaVersion 39), so the three
 * dashboards read as lists of questions rather than walls of JSON. The output
 * is committed under dashboards/json/ and provisioned by file.
 */
import { DEFAULT_SCHEMA } from '../../src/store/identifiers';

/** Datasource references; the uids are fixed in provisioning/datasources/cvd-activity.yaml. */
export const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' } as const;
export const TEMPO = { type: 'tempo', uid: 'tempo' } as const;
export const POSTGRES = { type: 'grafana-postgresql-datasource', uid: 'cvd-postgres' } as const;
type Datasource = typeof PROMETHEUS | typeof TEMPO | typeof POSTGRES;

/** The audit view as dashboards read it (the default schema). */
export const TRAIL = `${DEFAULT_SCHEMA}.audit_trail`;
/** Value a single-select SQL variable takes for "All" (custom all values are inserted unformatted, hence the quotes). */
export const ALL = "'__all'";

export type Json = Record<string, unknown>;

/** A raw-SQL target on the Postgres datasource. */
export function sql(rawSql: string, format: 'table' | 'time_series' = 'table', refId = 'A'): Json {
  return { refId, datasource: POSTGRES, editorMode: 'code', format, rawQuery: true, rawSql: rawSql.trim() };
}

/** A PromQL target. */
export function promql(expr: string, legendFormat = '', opts: { instant?: boolean; exemplar?: boolean; refId?: string } = {}): Json {
  return {
    refId: opts.refId ?? 'A',
    datasource: PROMETHEUS,
    editorMode: 'code',
    expr,
    legendFormat: legendFormat || '__auto',
    range: !opts.instant,
    instant: Boolean(opts.instant),
    exemplar: Boolean(opts.exemplar),
  };
}

/** A TraceQL target: a trace search (table of traces) or, with `metrics`, a TraceQL metrics query. */
export function traceql(query: string, opts: { metrics?: 'range' | 'instant'; limit?: number } = {}): Json {
  const target: Json = { refId: 'A', datasource: TEMPO, queryType: 'traceql', query, limit: opts.limit ?? 20 };
  if (opts.metrics) target.metricsQueryType = opts.metrics;
  else target.tableType = 'traces';
  return target;
}

/** Field override: clicking a trace id opens that trace in Tempo (Explore). */
export function traceLinkOverride(field = 'trace_id'): Json {
  return {
    matcher: { id: 'byName', options: field },
    properties: [
      {
        id: 'links',
        value: [
          {
            title: 'Open trace in Tempo',
            url: '',
            internal: {
              datasourceUid: TEMPO.uid,
              datasourceName: 'Tempo',
              query: { refId: 'A', datasource: TEMPO, queryType: 'traceql', query: '${__value.raw}' },
            },
          },
        ],
      },
    ],
  };
}

/** Everything a panel needs apart from its place on the grid. */
export interface PanelSpec {
  title: string;
  type: string;
  /** The question the panel answers (shown as its description, and in docs/dashboards.md). */
  description: string;
  datasource?: Datasource;
  targets?: Json[];
  unit?: string;
  overrides?: Json[];
  options?: Json;
  fieldConfig?: Json;
  transformations?: Json[];
  w?: number;
  h?: number;
}

/** Lays panels out left to right, wrapping at Grafana's 24 columns, and numbers them. */
export class Dashboard {
  private readonly panels: Json[] = [];
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  constructor(
    private readonly uid: string,
    private readonly title: string,
    private readonly description: string,
    private readonly variables: Json[] = [],
  ) {}

  /** Starts a new titled row of panels. */
  row(title: string): this {
    this.newLine();
    this.panels.push({ id: this.panels.length + 1, type: 'row', title, collapsed: false, gridPos: { x: 0, y: this.y, w: 24, h: 1 }, panels: [] });
    this.y += 1;
    return this;
  }

  /** Adds a panel (default 12 x 8). */
  panel(spec: PanelSpec): this {
    const w = spec.w ?? 12;
    const h = spec.h ?? 8;
    if (this.x + w > 24) this.newLine();
    const datasource = spec.datasource ?? (spec.targets?.[0]?.datasource as Datasource | undefined);
    this.panels.push({
      id: this.panels.length + 1,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      ...(datasource ? { datasource } : {}),
      gridPos: { x: this.x, y: this.y, w, h },
      ...(spec.targets ? { targets: spec.targets } : {}),
      fieldConfig: {
        defaults: { ...(spec.unit ? { unit: spec.unit } : {}), ...(spec.fieldConfig ?? {}) },
        overrides: spec.overrides ?? [],
      },
      options: spec.options ?? {},
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    });
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
    return this;
  }

  private newLine(): void {
    if (this.x > 0) this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }

  /** The dashboard JSON as Grafana's file provider reads it. */
  toJSON(): Json {
    return {
      uid: this.uid,
      title: this.title,
      description: this.description,
      tags: ['cvd-activity'],
      editable: true,
      graphTooltip: 1,
      schemaVersion: 39,
      version: 1,
      time: { from: 'now-6h', to: 'now' },
      timepicker: {},
      timezone: 'browser',
      refresh: '1m',
      templating: { list: this.variables },
      annotations: { list: [] },
      links: [{ title: 'cvd-activity', type: 'dashboards', tags: ['cvd-activity'], asDropdown: true, includeVars: true, keepTime: true }],
      panels: this.panels,
    };
  }
}

/** A single-select query variable with an "All" option. */
export function queryVariable(name: string, label: string, datasource: Datasource, query: string, allValue: string): Json {
  return {
    name,
    label,
    type: 'query',
    datasource,
    query: datasource === PROMETHEUS ? { query, refId: `${name}-query` } : query,
    definition: query,
    refresh: 2,
    includeAll: true,
    allValue,
    multi: false,
    sort: 1,
    current: { selected: true, text: 'All', value: '$__all' },
  };
}

/** A free-text box variable. */
export function textVariable(name: string, label: string): Json {
  return { name, label, type: 'textbox', query: '', current: { text: '', value: '' } };
}

/** Table panel options used everywhere: filterable columns, newest first. */
export const TABLE_OPTIONS: Json = { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } };
export const FILTERABLE: Json = { filterable: true, align: 'auto', cellOptions: { type: 'auto' } };
