/** One row of the benchmark table: a figure, its baseline from the same run, and the target. */
export interface Row {
  /** Which benchmark (e.g. "Upstream efficiency"). */
  bench: string;
  metric: string;
  ours: number;
  /** The baseline's figure in the same run, when there is one. */
  baseline?: number;
  unit: string;
  /** What we aim for, as text (e.g. "≤ 0.5× baseline"). */
  target?: string;
  /** Whether the target is met; undefined when there is no target. */
  met?: boolean;
  /** Which ratio to show: ours / baseline (default) or baseline / ours (for "higher is better"). */
  higherIsBetter?: boolean;
}

export function ratio(row: Row): number | undefined {
  if (row.baseline === undefined || row.baseline === 0) return undefined;
  return row.ours / row.baseline;
}

function fmt(value: number | undefined, unit = ''): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  const text = abs >= 1000 ? Math.round(value).toString() : abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

/** The rows as a Markdown table (also readable as plain text in a terminal). */
export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| benchmark | metric | ours | baseline | ratio | target | met |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const q = ratio(r);
    lines.push(
      `| ${r.bench} | ${r.metric} | ${fmt(r.ours, r.unit)} | ${fmt(r.baseline, r.unit)} | ${q === undefined ? '–' : `${q.toFixed(2)}×`} | ${r.target ?? '–'} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}
