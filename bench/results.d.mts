/** Writes `body` as section `name` of bench/RESULTS.md (appended when new); returns the file's path. */
export function writeResultsSection(name: string, body: string): string;
