// The retention executor: observe the host's daemon (images with their layers, containers, build
// cache, disk), hand it to the pure planner, then apply the plan through dockerode: images removed
// by ID without force, a conflict logged and skipped, build cache pruned through the API.
import type Docker from 'dockerode';
import { LABEL_APP } from '../build/labels.js';
import type { RetentionConfig } from '../config/schema.js';
import type { DeployRecord as HistoryRecord } from '../deploy/plan.js';
import { fsUsage, type FsUsage } from '../host/disk.js';
import type { Host } from '../host/index.js';
import { layerRows, type HistoryEntry } from '../report/layers.js';
import { chainIds } from '../ship/plan.js';
import type {
  BuildCacheRecord,
  CachePrune,
  Deletion,
  HostContainer,
  HostImage,
  RetentionInput,
  RetentionPlan,
} from './plan.js';

export interface DfSnapshot {
  readonly images: number;
  readonly imagesReclaimable: number;
  readonly containers: number;
  readonly volumes: number;
  readonly buildCache: number;
  readonly buildCacheReclaimable: number;
  readonly total: number;
  readonly imageCount: number;
  readonly fs?: FsUsage;
}

interface RawDf {
  LayersSize?: number;
  Images?: Array<{ Id: string; Size: number; SharedSize: number; Containers: number }>;
  Containers?: Array<{ SizeRw?: number }>;
  Volumes?: Array<{ UsageData?: { Size?: number } }>;
  BuildCache?: Array<{
    ID: string;
    Size: number;
    LastUsedAt?: string | null;
    CreatedAt: string;
    InUse: boolean;
    Shared: boolean;
    Type: string;
  }>;
}

const seconds = (iso: string | null | undefined): number | undefined =>
  iso ? Math.floor(Date.parse(iso) / 1000) : undefined;

/** `docker system df`, as numbers. */
export async function systemDf(host: Host, dockerRoot: string): Promise<{ df: DfSnapshot; raw: RawDf }> {
  const [raw, fs] = await Promise.all([host.docker.df() as Promise<RawDf>, fsUsage(host, dockerRoot)]);
  const images = raw.LayersSize ?? 0;
  const imagesUsed = (raw.Images ?? [])
    .filter((i) => i.Containers > 0)
    .reduce((a, i) => a + (i.Size - Math.max(0, i.SharedSize)), 0);
  const containers = (raw.Containers ?? []).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volumes = (raw.Volumes ?? []).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cache = raw.BuildCache ?? [];
  const buildCache = cache.filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
  const df: DfSnapshot = {
    images,
    imagesReclaimable: Math.max(0, images - imagesUsed),
    containers,
    volumes,
    buildCache,
    buildCacheReclaimable: cache.filter((c) => !c.Shared && !c.InUse).reduce((a, c) => a + c.Size, 0),
    total: images + containers + volumes + buildCache,
    imageCount: (raw.Images ?? []).length,
    ...(fs ? { fs } : {}),
  };
  return { df, raw };
}

/** Every image with its layers (chain IDs and sizes from its history), so the planner can tell what a removal frees. */
export async function observeImages(docker: Docker): Promise<HostImage[]> {
  const list = await docker.listImages({ all: false });
  const out: HostImage[] = [];
  for (const i of list) {
    const img = docker.getImage(i.Id);
    const [info, history] = await Promise.all([
      img.inspect().catch(() => undefined),
      img.history().catch(() => undefined) as Promise<HistoryEntry[] | undefined>,
    ]);
    if (!info) continue; // removed meanwhile
    const diffIds = info.RootFS?.Layers ?? [];
    const chains = chainIds(diffIds);
    const sizes = history ? layerRows(history, diffIds).map((r) => r.size) : [];
    out.push({
      id: i.Id,
      repoTags: i.RepoTags ?? [],
      created: i.Created,
      size: i.Size,
      labels: i.Labels ?? {},
      layers: chains.map((chainId, k) => ({ chainId, size: sizes[k] ?? 0 })),
      ...(info.Parent ? { parentId: info.Parent } : {}),
    });
  }
  return out;
}

export async function observeContainersAll(docker: Docker): Promise<HostContainer[]> {
  const list = await docker.listContainers({ all: true });
  return list.map((c) => ({
    id: c.Id,
    names: c.Names,
    imageId: c.ImageID,
    state: c.State,
    labels: c.Labels ?? {},
  }));
}

export function buildCacheRecords(raw: RawDf): BuildCacheRecord[] {
  return (raw.BuildCache ?? []).map((c) => {
    const lastUsedAt = seconds(c.LastUsedAt);
    return {
      id: c.ID,
      size: c.Size,
      ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
      createdAt: seconds(c.CreatedAt) ?? 0,
      inUse: c.InUse,
      shared: c.Shared,
      type: c.Type,
    };
  });
}

export interface Observed {
  readonly input: RetentionInput;
  readonly df: DfSnapshot;
}

export async function observeForRetention(
  host: Host,
  dockerRoot: string,
  o: {
    app: string;
    repository?: string;
    rules: RetentionConfig;
    history: readonly HistoryRecord[];
    activeImageId?: string;
    rollbackImageId?: string;
    requiredFreeBytes?: number;
  },
): Promise<Observed> {
  const [images, containers, { df, raw }] = await Promise.all([
    observeImages(host.docker),
    observeContainersAll(host.docker),
    systemDf(host, dockerRoot),
  ]);
  const input: RetentionInput = {
    app: o.app,
    ...(o.repository ? { repository: o.repository } : {}),
    appLabel: LABEL_APP,
    images,
    containers,
    buildCache: buildCacheRecords(raw),
    disk: {
      dockerDataBytes: df.total,
      ...(df.fs ? { fsTotalBytes: df.fs.totalBytes, fsFreeBytes: df.fs.freeBytes } : {}),
    },
    ...(o.activeImageId ? { activeImageId: o.activeImageId } : {}),
    ...(o.rollbackImageId ? { rollbackImageId: o.rollbackImageId } : {}),
    history: o.history
      .filter((h) => h.result === 'success')
      .map((h) => ({ buildTag: h.buildTag, imageId: h.imageId, at: Math.floor(Date.parse(h.at) / 1000) })),
    rules: o.rules,
    now: Math.floor(Date.now() / 1000),
    ...(o.requiredFreeBytes !== undefined ? { requiredFreeBytes: o.requiredFreeBytes } : {}),
  };
  return { input, df };
}

export interface Applied {
  readonly removed: Array<{ id: string; tags: string[]; size: number; reason: string }>;
  readonly skipped: Array<{ id: string; tags: string[]; why: string }>;
  readonly cacheReclaimed: number;
}

export async function applyPlan(
  docker: Docker,
  plan: RetentionPlan,
  log: (m: string) => void,
): Promise<Applied> {
  const removed: Applied['removed'] = [];
  const skipped: Applied['skipped'] = [];
  let cacheReclaimed = 0;
  for (const d of plan.deletions) {
    if (d.kind === 'image') await removeImage(docker, d, removed, skipped, log);
    else cacheReclaimed += await pruneCache(docker, d, log);
  }
  return { removed, skipped, cacheReclaimed };
}

async function removeImage(
  docker: Docker,
  d: Deletion,
  removed: Applied['removed'],
  skipped: Applied['skipped'],
  log: (m: string) => void,
): Promise<void> {
  try {
    // By ID, without force: Docker itself refuses an image a container uses or that has children.
    await docker.getImage(d.id).remove({ force: false, noprune: false });
    removed.push({ id: d.id, tags: d.tags, size: d.frees, reason: d.reason });
    log(`removed ${d.tags.join(', ') || d.id.slice(0, 19)} (${d.reason})`);
  } catch (e) {
    const err = e as { statusCode?: number; message?: string; json?: { message?: string } };
    const why = err.json?.message ?? err.message ?? String(e);
    if (err.statusCode === 404) {
      log(`already gone: ${d.id.slice(0, 19)}`);
      return;
    }
    // 409: it became used (or gained a child) since we looked. Never fatal: skip it.
    skipped.push({ id: d.id, tags: d.tags, why });
    log(`kept ${d.tags.join(', ') || d.id.slice(0, 19)}: ${why}`);
  }
}

async function pruneCache(docker: Docker, d: CachePrune, log: (m: string) => void): Promise<number> {
  const filters: Record<string, string[]> = {};
  if (!d.all && d.olderThanSeconds !== undefined) filters.until = [`${d.olderThanSeconds}s`];
  const res = await buildPrune(docker, {
    ...(d.all ? { all: true } : {}),
    ...(Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {}),
  });
  log(`build cache: ${res.CachesDeleted?.length ?? 0} record(s) pruned (${d.reason})`);
  return res.SpaceReclaimed ?? 0;
}

/** Build-cache prune to a budget: `keep-storage` before Engine API 1.48, `max-used-space` from it. */
export async function pruneCacheToBudget(
  docker: Docker,
  apiVersion: string,
  budget: number,
): Promise<number> {
  const [maj, min] = apiVersion.split('.').map(Number) as [number, number];
  const key = maj > 1 || min >= 48 ? 'max-used-space' : 'keep-storage';
  const opts: Record<string, string> = { [key]: String(budget) };
  const res = await buildPrune(docker, opts);
  return res.SpaceReclaimed ?? 0;
}

/**
 * POST /build/prune with its query parameters. dockerode 5's pruneBuilder drops every option (it
 * never passes them to the modem), which turns a budget or an age filter into "prune everything".
 */
export function buildPrune(
  docker: Docker,
  query: Record<string, string | boolean>,
): Promise<{ SpaceReclaimed?: number; CachesDeleted?: string[] | null }> {
  return new Promise((resolve, reject) =>
    docker.modem.dial(
      {
        path: '/build/prune?',
        method: 'POST',
        options: query,
        statusCodes: { 200: true, 500: 'server error' },
      },
      (err: Error | null, data: unknown) =>
        err ? reject(err) : resolve((data ?? {}) as { SpaceReclaimed?: number }),
    ),
  );
}
