/**
 * Where the audit trail's Postgres is, for the store and the CLI, which must
 * not load the rest of the configuration (or OpenTelemetry) to find it.
 */

/** Connection settings for `pg`; an absent connectionString means pg's own PG* variables apply. */
export interface DatabaseConnectionConfig {
  connectionString?: string;
  /** Which setting was used: CVD_ACTIVITY_DATABASE_URL, DATABASE_URL or PG* (pg reads PGHOST, PGUSER, … itself). */
  source: 'CVD_ACTIVITY_DATABASE_URL' | 'DATABASE_URL' | 'PG*';
}

/** CVD_ACTIVITY_DATABASE_URL, else DATABASE_URL, else the standard PG* variables. */
export function databaseConnectionConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConnectionConfig {
  const own = env.CVD_ACTIVITY_DATABASE_URL?.trim();
  if (own) return { connectionString: own, source: 'CVD_ACTIVITY_DATABASE_URL' };
  const common = env.DATABASE_URL?.trim();
  if (common) return { connectionString: common, source: 'DATABASE_URL' };
  return { source: 'PG*' };
}

/** Whether the standard PG* variables name a server (PGHOST, PGDATABASE or PGSERVICE is set). */
export function pgEnvironmentConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.PGHOST || env.PGDATABASE || env.PGSERVICE);
}
