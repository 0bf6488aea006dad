// Free space of the filesystem under a directory on the target: `df -PB1` (POSIX output, bytes)
// over SSH as a fixed, quoted command, or statfs on the runner itself.
import { promises as fs } from 'node:fs';
import { posix } from 'node:path';
import type { Host } from './host.js';

export interface FsUsage {
  readonly totalBytes: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly mount?: string;
  /** The directory df was asked about (a parent, when the Docker root itself is not readable). */
  readonly path: string;
}

/** Parses `df -P -B1` output: a header, then `fs total used available capacity mount`. */
export function parseDf(out: string): Omit<FsUsage, 'path'> | undefined {
  const lines = out.trim().split('\n');
  if (lines.length < 2) return undefined;
  // The mount point is the rest of the line, as df printed it (spaces and all). GNU df prints a
  // negative Available on a filesystem filled into its reserved blocks.
  const f = /^\S+\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+\S+\s+(\S.*)$/.exec(lines[lines.length - 1]!.trim());
  if (!f) return undefined;
  const [total, used, avail] = [Number(f[1]), Number(f[2]), Number(f[3])];
  if (![total, used, avail].every(Number.isFinite)) return undefined;
  return { totalBytes: total, usedBytes: used, freeBytes: avail, mount: f[4]! };
}

export async function fsUsage(host: Host, dir: string): Promise<FsUsage | undefined> {
  if (host.kind === 'local') {
    for (let d = dir; ; d = posix.dirname(d)) {
      try {
        const s = await fs.statfs(d);
        return {
          totalBytes: s.blocks * s.bsize,
          usedBytes: (s.blocks - s.bfree) * s.bsize,
          freeBytes: s.bavail * s.bsize,
          path: d,
        };
      } catch {
        if (d === '/') return undefined;
      }
    }
  }
  // The deploy user may not be allowed into the Docker root: the same filesystem's parent will do.
  for (let d = dir; ; d = posix.dirname(d)) {
    const r = await host.run(['df', '-P', '-B1', '--', d]).catch(() => undefined);
    const parsed = r && r.code === 0 ? parseDf(r.stdout) : undefined;
    if (parsed) return { ...parsed, path: d };
    if (d === '/') return undefined;
  }
}
