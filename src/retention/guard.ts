// The pre-flight disk guard's decisions, pure: does this deploy fit on the host's disk with
// min-free-space to spare, and if not, can retention make room, or must the run stop before
// anything changes? guard-step.ts measures and applies.
import type { SizeOrPercent } from '../config/rules.js';
import { formatBytes } from '../format.js';

/** docker load unpacks the archive into a temporary directory and then into the layer store. */
export const LOAD_FACTOR = 2;
/** Room for the new container's writable layer and logs. */
export const CONTAINER_MARGIN = 32 * 1024 * 1024;

export function minFreeBytes(min: SizeOrPercent, totalBytes: number): number {
  return min.kind === 'bytes' ? min.bytes : Math.ceil((min.percent / 100) * totalBytes);
}

/** What this deploy will write: the unpacked layers the host lacks (loaded twice over) plus a container. */
export function deployWrites(lackingUnpackedBytes: number): number {
  return LOAD_FACTOR * lackingUnpackedBytes + CONTAINER_MARGIN;
}

export interface GuardInput {
  readonly freeBytes: number;
  readonly totalBytes: number;
  readonly writes: number;
  readonly minFree: SizeOrPercent;
}

export type GuardDecision =
  | { readonly action: 'proceed'; readonly required: number; readonly spare: number }
  | { readonly action: 'make-room'; readonly required: number; readonly shortBy: number };

export function decide(i: GuardInput): GuardDecision {
  const required = i.writes + minFreeBytes(i.minFree, i.totalBytes);
  if (i.freeBytes >= required) return { action: 'proceed', required, spare: i.freeBytes - required };
  return { action: 'make-room', required, shortBy: required - i.freeBytes };
}

/** After a pre-deploy retention plan: apply it only if it gets the host over the line. */
export function afterRetention(
  required: number,
  freeBytes: number,
  retentionFrees: number,
): 'apply' | 'refuse' {
  return freeBytes + retentionFrees >= required ? 'apply' : 'refuse';
}

export interface Alternative {
  readonly input: string;
  readonly frees: number;
}

export function refusal(o: {
  host: string;
  required: number;
  writes: number;
  minFree: number;
  freeBytes: number;
  retentionFrees: number;
  alternatives: readonly Alternative[];
}): string {
  const best = [...o.alternatives]
    .filter((a) => a.frees > o.retentionFrees)
    .sort((a, b) => b.frees - a.frees)[0];
  const hint = best
    ? ` ${best.input} would free ${formatBytes(best.frees)}.`
    : ' Free space on the host or lower min-free-space.';
  return (
    `not enough disk on ${o.host} for this deploy: it needs ${formatBytes(o.required)} free (${formatBytes(o.writes)} to load the image and start it + min-free-space ${formatBytes(o.minFree)}), ` +
    `${formatBytes(o.freeBytes)} is free, and retention may free only ${formatBytes(o.retentionFrees)}. Nothing was changed on the host.${hint}`
  );
}
