/** Writes `body` as section `name` of bench/RESULTS.md (appended when new); returns the file's path. */
export function writeResultsSection(name: string, body: string): string;
/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number;
