// The bench's one table: a row per figure, columns aligned, the target met or not.
import type { Figure } from './figure.js';

/** 12,345 for large values, three significant digits for small ones. */
export function formatNumber(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toString();
}

/** A ratio to two decimals (0.86), or two significant digits when it is smaller than 0.1. */
export function formatRatio(value: number): string {
  if (Math.abs(value) >= 10) return formatNumber(value);
  return Math.abs(value) >= 0.1 ? value.toFixed(2) : value.toPrecision(2);
}

function rowOf(figure: Figure): string[] {
  const value = figure.value === null ? '-' : `${formatNumber(figure.value)} ${figure.unit}`;
  const ratio = figure.ratio === undefined ? '' : `${formatRatio(figure.ratio.value)} of ${figure.ratio.to}`;
  const target = figure.target === undefined ? '' : `${figure.target.met ? 'met' : 'NOT met'} (${figure.target.text})`;
  return [figure.scenario, figure.name, value, ratio, target, figure.note ?? ''];
}

export function tableOf(figures: readonly Figure[]): string {
  const rows = [['scenario', 'figure', 'value', 'ratio', 'target', 'note'], ...figures.map(rowOf)];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
