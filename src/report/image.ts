// The image report shown after a build: what each layer costs, the bytes wasted on files a later
// layer hid, and how the size moved against the image serving on the host. It reads a
// `docker save` stream once, never buffering a layer (see listSaveLayers).
import { Readable } from 'node:stream';
import { formatBytes } from '../format.js';
import {
  biggestLayers,
  computeWaste,
  layerRowsFromConfig,
  listSaveLayers,
  type LayerListing,
  type LayerRow,
  type WasteReport,
} from './layers.js';
import { table } from './summary.js';

export interface ImageReportInput {
  ref: string;
  id: string;
  size: number;
  /** Streams `docker save` of the image (the caller passes () => docker.getImage(id).get()). */
  save: () => Promise<NodeJS.ReadableStream>;
  /** The image currently serving on the host, to show the size change; undefined on a first deploy. */
  serving?: { ref: string; id: string; size: number };
}

export interface ImageReport {
  /** Bottom → top. */
  rows: LayerRow[];
  /** The five biggest layers, biggest first. */
  biggest: LayerRow[];
  waste: WasteReport;
  /** `size` as given (the daemon's unpacked size); the layers' sum when that is 0 (unknown). */
  totalSize: number;
  /** totalSize − serving.size; undefined without a serving image. */
  sizeChange?: number;
  markdown: string;
}

const MAX_INSTRUCTION = 80;
const BIGGEST = 5;

/**
 * A layer's size here is the sum of the sizes of the regular files in its tar listing: the bytes
 * it unpacks to (hard links, directories and whiteouts count 0; tar headers are not counted).
 * That is the same measure as Docker's history `Size` (also the unpacked size, not the compressed
 * size a registry stores), but taken from the archive itself, so it needs no history API and
 * lines up with the diffIds exactly.
 */
const layerBytes = (l: LayerListing): number =>
  l.files.reduce((sum, f) => sum + (f.type === 'file' && f.size > 0 ? f.size : 0), 0);

export async function imageReport(input: ImageReportInput): Promise<ImageReport> {
  const stream = await input.save();
  const readable = stream instanceof Readable ? stream : new Readable().wrap(stream);
  const { layers, configHistory } = await listSaveLayers(readable);

  const rows = layerRowsFromConfig(
    configHistory ?? [],
    layers.map((l) => l.diffId ?? ''),
    layers.map(layerBytes),
  );
  const waste = computeWaste(layers);
  const biggest = biggestLayers(rows, BIGGEST);
  const totalSize = input.size > 0 ? input.size : rows.reduce((s, r) => s + r.size, 0);
  const sizeChange = input.serving ? totalSize - input.serving.size : undefined;

  const report = { rows, biggest, waste, totalSize, ...(sizeChange !== undefined && { sizeChange }) };
  return { ...report, markdown: renderMarkdown(input, report) };
}

/** `+1.2 MB (+3.4%)`: a size change with its sign, and its share of the old size when known. */
export function formatChange(change: number, from: number): string {
  const bytes = change > 0 ? `+${formatBytes(change)}` : change < 0 ? formatBytes(change) : '±0 B';
  if (from <= 0) return bytes;
  const pct = (change / from) * 100;
  const shown = `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
  return `${bytes} (${shown === '-0.0%' ? '0.0%' : shown})`;
}

/** An inline code span that survives backticks in the text (CommonMark: a longer fence). */
function code(s: string): string {
  if (s === '') return '';
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || s.startsWith(' ') || s.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

const short = (s: string) => (s.length > MAX_INSTRUCTION ? `${s.slice(0, MAX_INSTRUCTION - 1)}…` : s);

/** Megabytes (1000², like formatBytes) with two decimals, for the chart. */
const mb = (n: number) => Math.round(n / 10_000) / 100;

function renderMarkdown(input: ImageReportInput, r: Omit<ImageReport, 'markdown'>): string {
  const { rows, biggest, waste, totalSize, sizeChange } = r;
  const facts = [`${code(input.ref)}: **${formatBytes(totalSize)}** in ${rows.length} layer(s)`];
  if (input.serving && sizeChange !== undefined) {
    facts.push(
      input.serving.id === input.id
        ? `same image as ${code(input.serving.ref)} (serving)`
        : `${formatChange(sizeChange, input.serving.size)} vs ${code(input.serving.ref)} (serving)`,
    );
  } else {
    facts.push('no image serving yet');
  }
  facts.push(
    `wasted ${formatBytes(waste.wastedBytes)} (${waste.wastedBytes} bytes)`,
    `efficiency ${(waste.efficiency * 100).toFixed(1)}%`,
  );
  const parts = [facts.join(' · ')];

  // Bold marks the five biggest layers; a layer of 0 bytes is never among "the biggest".
  const bold = new Set(biggest.filter((b) => b.size > 0).map((b) => b.index));
  parts.push(
    table(
      ['layer', 'size', 'instruction'],
      rows.map((row) => [
        row.index,
        bold.has(row.index) ? `**${formatBytes(row.size)}**` : formatBytes(row.size),
        code(short(row.instruction)),
      ]),
    ),
  );

  if (waste.wastedBytes > 0) {
    parts.push(
      `Wasted: files a later layer overwrote or deleted. They still ship with the image, but no container can see them.`,
      table(
        ['path', 'bytes', 'reason'],
        waste.top.map((w) => [
          code(short(w.path)),
          `${formatBytes(w.bytes)} (${w.bytes})`,
          `${w.reason}; hidden ${w.layers.length > 1 ? `copies in layers ${w.layers.join(', ')}` : `copy in layer ${w.layers.join('')}`}`,
        ]),
      ),
    );
  }

  if (rows.length > 0) {
    parts.push(
      [
        '```mermaid',
        'xychart-beta',
        '  title "Layer sizes (MB)"',
        `  x-axis [${rows.map((row) => `"${row.index}"`).join(', ')}]`,
        '  y-axis "MB"',
        `  bar [${rows.map((row) => mb(row.size)).join(', ')}]`,
        '```',
      ].join('\n'),
    );
  }
  return parts.join('\n\n');
}
