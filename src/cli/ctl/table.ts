/**
 * Column-aligned text for people: a header row, then one row per item, each
 * column as wide as its widest cell, two spaces between columns. Columns
 * marked `right` (numbers) align right. The last column is never padded, so
 * lines carry no trailing blanks.
 */

export interface Column {
  readonly header: string;
  readonly right?: boolean;
}

/** A column spec from a header: "NAME" or ">NAME" (right-aligned). */
export function col(spec: string): Column {
  return spec.startsWith('>') ? { header: spec.slice(1), right: true } : { header: spec };
}

/** Width in terminal cells; the CLI prints ASCII and the odd "…" or "→", one cell each. */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

/** The lines of `rows` aligned as columns `cols` (their headers count towards the widths). */
function aligned(cols: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = cols.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    cols
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const last = i === cols.length - 1;
        return last && !c.right ? cell : pad(cell, widths[i] ?? 0, c.right === true);
      })
      .join('  ')
      .trimEnd();
  return rows.map(line);
}

const columnsOf = (columns: readonly (Column | string)[]): Column[] => columns.map((c) => (typeof c === 'string' ? col(c) : c));

/** Rows under headers; every row must have one cell per column. Ends with a newline unless empty. */
export function formatTable(columns: readonly (Column | string)[], rows: readonly (readonly string[])[]): string {
  const cols = columnsOf(columns);
  return aligned(cols, [cols.map((c) => c.header), ...rows]).join('\n') + '\n';
}

/**
 * Rows aligned as columns but without a header row (`columns` only say which
 * align right: "" or ">"), each line led by `indent`. Empty for no rows.
 */
export function formatRows(columns: readonly (Column | string)[], rows: readonly (readonly string[])[], indent = ''): string {
  const cols = columnsOf(columns).map((c) => ({ ...c, header: '' }));
  return aligned(cols, rows).map((l) => `${indent}${l}\n`).join('');
}

/** "key  value" lines with the keys aligned, for one item's details. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const w = Math.max(0, ...fields.map(([k]) => width(k)));
  return fields.map(([k, v]) => `${pad(k, w, false)}  ${v}`.trimEnd()).join('\n') + '\n';
}
