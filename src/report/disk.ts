// `docker system df` before and after, as a table and a Mermaid chart for the job summary.
import { formatBytes } from '../format.js';
import type { DfSnapshot } from '../retention/apply.js';
import { table } from './summary.js';

export function dfTable(before: DfSnapshot, after: DfSnapshot): string {
  const row = (name: string, b: number, a: number) => [
    name,
    formatBytes(b),
    formatBytes(a),
    formatBytes(a - b),
  ];
  const rows = [
    row('Images', before.images, after.images),
    row('Containers', before.containers, after.containers),
    row('Local volumes', before.volumes, after.volumes),
    row('Build cache', before.buildCache, after.buildCache),
    row('Total', before.total, after.total),
  ];
  if (before.fs && after.fs)
    rows.push([
      `Free on ${after.fs.mount ?? after.fs.path}`,
      formatBytes(before.fs.freeBytes),
      formatBytes(after.fs.freeBytes),
      formatBytes(after.fs.freeBytes - before.fs.freeBytes),
    ]);
  return table(['docker system df', 'before', 'after', 'change'], rows);
}

const mb = (n: number) => Math.round((n / 1e6) * 10) / 10;

export function dfChart(before: DfSnapshot, after: DfSnapshot): string {
  return [
    '```mermaid',
    'xychart-beta',
    '  title "Docker disk use (MB): before and after retention"',
    '  x-axis ["Images", "Containers", "Volumes", "Build cache"]',
    '  y-axis "MB"',
    `  bar [${[before.images, before.containers, before.volumes, before.buildCache].map(mb).join(', ')}]`,
    `  bar [${[after.images, after.containers, after.volumes, after.buildCache].map(mb).join(', ')}]`,
    '```',
  ].join('\n');
}
