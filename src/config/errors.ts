/** One problem in a config file, located precisely enough to fix it from the message alone. */
export interface ConfigError {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (the file could not be read). */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Field path such as `neighbors[0].remote-as`; empty for file-level problems. */
  readonly path: string;
  readonly message: string;
}

/** `file:line:col: path: message`, the shape editors and terminals turn into links. */
export function formatConfigError(e: ConfigError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.col}` : e.file;
  return `${where}: ${e.path === '' ? '' : `${e.path}: `}${e.message}`;
}

export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map(formatConfigError).join('\n');
}

/** The known key closest to `key` (edit distance at most 2, or same words in another case style). */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const kebab = key
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
  if (known.includes(kebab)) return kebab;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance; inputs are short key names, so the O(n·m) table is fine. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
