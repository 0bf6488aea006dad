// The retention planner: observed host state in, the list of what to delete and why out.
// Pure on purpose (no fs, no Docker, no SSH): the one decision that can destroy data on a host is
// a function a unit test drives with tables and random hosts. apply.ts executes the plan in order.
import type { RetentionConfig } from '../config/schema.js';
import { formatBytes } from '../format.js';

export interface HostLayer {
  chainId: string;
  /** Bytes of that layer on disk. */
  size: number;
}
export interface HostImage {
  /** `sha256:…` */
  id: string;
  /** `[]` (or `['<none>:<none>']`) when dangling. */
  repoTags: string[];
  /** Unix seconds. */
  created: number;
  /** Total bytes (Docker's Size). Only used when `layers` is empty. */
  size: number;
  labels: Record<string, string>;
  /** Bottom → top; identity is chainId (shared between images). */
  layers: HostLayer[];
  /** Classic-builder parent: an image that is another image's parent cannot be removed first. */
  parentId?: string;
  /** Unix seconds of last use (deploy history / container start); default created. */
  lastUsed?: number;
}
export interface HostContainer {
  id: string;
  names: string[];
  imageId: string;
  state: string;
  labels: Record<string, string>;
}
export interface BuildCacheRecord {
  id: string;
  size: number;
  lastUsedAt?: number;
  createdAt: number;
  inUse: boolean;
  /** Shared with an image: Docker counts those bytes with the image, pruning the record frees none. */
  shared: boolean;
  type: string;
}
export interface DiskUsage {
  /** `docker system df` total. */
  dockerDataBytes: number;
  /** The filesystem under the Docker root. */
  fsTotalBytes?: number;
  fsFreeBytes?: number;
}
/** Deploy history, any order. */
export interface DeployRecord {
  buildTag: string;
  imageId: string;
  at: number;
}
export interface RetentionInput {
  app: string;
  /** The `image` input, e.g. `ghcr.io/acme/myapp`: its images count as the app's even without labels. */
  repository?: string;
  /** Label key carrying the app name (`dev.bluegreen.app`). */
  appLabel: string;
  images: HostImage[];
  containers: HostContainer[];
  buildCache: BuildCacheRecord[];
  disk: DiskUsage;
  activeImageId?: string;
  rollbackImageId?: string;
  history: DeployRecord[];
  rules: RetentionConfig;
  /** Unix seconds. */
  now: number;
  /** Pre-deploy mode: keep evicting until fsFreeBytes + freed >= this. */
  requiredFreeBytes?: number;
}

/** `frees`: bytes this deletion really frees after the deletions before it (each layer counted once). */
export interface Deletion {
  kind: 'image';
  id: string;
  tags: string[];
  reason: string;
  frees: number;
}
export interface CachePrune {
  kind: 'build-cache';
  all: boolean;
  olderThanSeconds?: number;
  reason: string;
  frees: number;
  records: number;
}
export interface Kept {
  id: string;
  tags: string[];
  why: string;
}
export interface RetentionPlan {
  /** Images children first, then the build-cache prune; apply in this order. */
  deletions: Array<Deletion | CachePrune>;
  /** Every image that stays, with why: the app's newest first, then the rest by id. */
  kept: Kept[];
  warnings: string[];
  totalFrees: number;
  projectedDockerDataBytes: number;
  projectedFsFreeBytes?: number;
}

// --- small helpers ---------------------------------------------------------------------------

const NONE_TAG = /^<none>[:@]<none>$/;

/** Tags that name something; `<none>:<none>` is how older daemons spell "no tag". */
export function realTags(image: HostImage): string[] {
  return image.repoTags.filter((t) => !NONE_TAG.test(t));
}

/** Repository of a reference in Docker's familiar form (`docker.io/library/x:1` → `x`). */
export function repositoryOf(ref: string): string {
  let r = ref.split('@')[0] ?? '';
  const colon = r.lastIndexOf(':');
  if (colon > r.lastIndexOf('/')) r = r.slice(0, colon);
  return r.replace(/^(?:index\.)?docker\.io\//, '').replace(/^library\//, '');
}

/** IDs compare with their algorithm prefix, whichever way the caller spelled them. */
const normId = (id: string): string => (id.includes(':') ? id : `sha256:${id}`);

function formatTime(s: number): string {
  if (!Number.isFinite(s) || Math.abs(s) > 8e12) return `${s}s`;
  return new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

function formatAge(seconds: number): string {
  if (seconds % 86_400 === 0 && seconds > 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0 && seconds > 0) return `${seconds / 3_600}h`;
  return `${seconds}s`;
}

// --- the planner -----------------------------------------------------------------------------

type ProtectKind = 'active' | 'rollback' | 'container' | 'label' | 'scope';

interface Node {
  id: string;
  tags: string[];
  name: string;
  dangling: boolean;
  app: boolean;
  /** Latest deploy of this image, if any. */
  deployedAt?: number;
  lastUsed: number;
  created: number;
  parentId?: string;
  children: string[];
  layerKeys: string[];
  /** Never-delete reasons that do not depend on the plan. */
  protect: Array<{ kind: ProtectKind; text: string }>;
  /** 0-based position among the app's tagged images, newest first. */
  rank?: number;
}

/** Reference counts of layers over the images that stay: removing an image frees what drops to 0. */
class LayerLedger {
  private readonly refs = new Map<string, number>();
  private readonly sizes = new Map<string, number>();
  constructor(nodes: Iterable<Node>, sizeOf: Map<string, number>) {
    for (const n of nodes) for (const k of n.layerKeys) this.refs.set(k, (this.refs.get(k) ?? 0) + 1);
    for (const [k, s] of sizeOf) this.sizes.set(k, s);
  }
  remove(n: Node): number {
    let freed = 0;
    for (const k of n.layerKeys) {
      const left = (this.refs.get(k) ?? 1) - 1;
      this.refs.set(k, left);
      if (left === 0) freed += this.sizes.get(k) ?? 0;
    }
    return freed;
  }
  /** Bytes still held by the images that stay. */
  held(): number {
    let sum = 0;
    for (const [k, r] of this.refs) if (r > 0) sum += this.sizes.get(k) ?? 0;
    return sum;
  }
}

interface Goal {
  label: string;
  /** What an eviction does for it, in a reason. */
  aim: string;
  /** How the gap reads: Docker data is over a limit, free space short of a need. */
  gap: 'over' | 'short';
  /** Bytes still to free to meet the goal; <= 0 when met. */
  shortBy(freed: number): number;
  describe(freed: number): string;
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const { rules, app } = input;
  const warnings: string[] = [];
  const repository = input.repository === undefined ? undefined : repositoryOf(input.repository);

  // Containers and history by image, normalised ids.
  const users = new Map<string, string[]>();
  for (const c of input.containers) {
    const id = normId(c.imageId);
    const name = (c.names[0] ?? c.id.slice(0, 12)).replace(/^\//, '');
    users.set(id, [...(users.get(id) ?? []), `${name} (${c.state})`]);
  }
  const deployedAt = new Map<string, number>();
  for (const h of input.history) {
    const id = normId(h.imageId);
    deployedAt.set(id, Math.max(deployedAt.get(id) ?? -Infinity, h.at));
  }
  const active = input.activeImageId === undefined ? undefined : normId(input.activeImageId);
  const rollback = input.rollbackImageId === undefined ? undefined : normId(input.rollbackImageId);

  // One node per image id, in id order so every later loop is deterministic.
  const nodes = new Map<string, Node>();
  const layerSize = new Map<string, number>();
  const sorted = [...input.images].sort((a, b) => cmp(normId(a.id), normId(b.id)));
  for (const img of sorted) {
    const id = normId(img.id);
    if (nodes.has(id)) continue; // a duplicate listing is the same image
    const tags = realTags(img);
    const layerKeys = new Set<string>();
    for (const l of img.layers) {
      layerKeys.add(l.chainId);
      layerSize.set(l.chainId, Math.max(layerSize.get(l.chainId) ?? 0, l.size, 0));
    }
    // Without layer detail the image's own size is the best guess, held by it alone.
    if (img.layers.length === 0 && img.size > 0) {
      layerKeys.add(`image:${id}`);
      layerSize.set(`image:${id}`, img.size);
    }
    const dangling = tags.length === 0;
    const isApp =
      img.labels[input.appLabel] === app ||
      (repository !== undefined && tags.some((t) => repositoryOf(t) === repository));
    const dep = deployedAt.get(id);
    const protect: Node['protect'] = [];
    if (id === active) protect.push({ kind: 'active', text: 'active image' });
    if (id === rollback) protect.push({ kind: 'rollback', text: 'rollback image' });
    const used = users.get(id);
    if (used) protect.push({ kind: 'container', text: `used by container ${listSome([...used].sort())}` });
    for (const [k, v] of rules.protectLabels) {
      if (img.labels[k] === v) protect.push({ kind: 'label', text: `protected by label ${k}=${v}` });
    }
    if (rules.pruneScope === 'app' && !isApp && !dangling) {
      protect.push({ kind: 'scope', text: `not ${app}'s (prune-scope: app)` });
    }
    nodes.set(id, {
      id,
      tags,
      name: tags[0] ?? id.slice(0, 19),
      dangling,
      app: isApp,
      ...(dep === undefined ? {} : { deployedAt: dep }),
      // Deploying an image is using it, whatever lastUsed says.
      lastUsed: Math.max(img.lastUsed ?? img.created, dep ?? -Infinity),
      created: img.created,
      ...(img.parentId === undefined ? {} : { parentId: normId(img.parentId) }),
      children: [],
      layerKeys: [...layerKeys],
      protect,
    });
  }
  for (const n of nodes.values()) {
    const p = n.parentId === undefined ? undefined : nodes.get(n.parentId);
    if (p && p !== n) p.children.push(n.id);
  }

  // keep-images ranks the app's tagged images: deployed ones by their latest deploy, then the
  // never-deployed by creation. Dangling images are left to prune-dangling.
  const ranked = [...nodes.values()]
    .filter((n) => n.app && !n.dangling)
    .sort(
      (a, b) =>
        (b.deployedAt ?? -Infinity) - (a.deployedAt ?? -Infinity) || b.created - a.created || cmp(a.id, b.id),
    );
  ranked.forEach((n, i) => (n.rank = i));
  const N = rules.keepImages;
  const newest = `the newest ${N} of ${app}`;

  // Phase 1: the rules. `why` collects why an image stays, `reason` why it goes.
  const why = new Map<string, string[]>();
  const reason = new Map<string, string>();
  const addWhy = (id: string, w: string): void => void why.set(id, [...(why.get(id) ?? []), w]);
  for (const n of nodes.values()) {
    for (const p of n.protect) addWhy(n.id, p.text);
    let verdict: { keep: string } | { drop: string };
    if (n.dangling) {
      verdict = rules.pruneDangling ? { drop: 'dangling' } : { keep: 'dangling; prune-dangling is off' };
    } else if (n.rank !== undefined) {
      verdict = n.rank < N ? { keep: `#${n.rank + 1} of ${newest}` } : { drop: `older than ${newest}` };
    } else {
      verdict = rules.pruneScope === 'all' ? { drop: 'unused (prune-scope: all)' } : { keep: 'not in scope' };
    }
    if ('keep' in verdict) {
      if (n.protect.length === 0 || n.rank !== undefined) addWhy(n.id, verdict.keep);
    } else if (n.protect.length === 0) {
      reason.set(n.id, verdict.drop);
    }
  }

  // An image that stays pins its whole parent chain.
  for (const n of nodes.values()) {
    if (reason.has(n.id)) continue;
    let child = n;
    let parent = child.parentId === undefined ? undefined : nodes.get(child.parentId);
    while (parent && reason.has(parent.id)) {
      reason.delete(parent.id);
      addWhy(parent.id, `parent of ${child.name}, which stays`);
      child = parent;
      parent = child.parentId === undefined ? undefined : nodes.get(child.parentId);
    }
  }

  // Order: oldest first, every deleted child before its parent; frees follow that order.
  const byAge = (a: Node, b: Node): number => a.lastUsed - b.lastUsed || cmp(a.id, b.id);
  const ledger = new LayerLedger(nodes.values(), layerSize);
  const deletions: Deletion[] = [];
  const deleted = new Set<string>();
  const emit = (n: Node, r: string): void => {
    deleted.add(n.id);
    deletions.push({ kind: 'image', id: n.id, tags: n.tags, reason: r, frees: ledger.remove(n) });
  };
  const seen = new Set<string>(); // marked before recursing, so a malformed parent cycle still ends
  const visit = (n: Node): void => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    for (const c of n.children.map((id) => nodes.get(id)!).sort(byAge)) if (reason.has(c.id)) visit(c);
    emit(n, reason.get(n.id)!);
  };
  for (const n of [...nodes.values()].filter((x) => reason.has(x.id)).sort(byAge)) visit(n);

  // Build cache goes last: removing images can only leave more of it unreferenced.
  const cache = planCache(input);
  let freed = deletions.reduce((s, d) => s + d.frees, 0) + (cache?.frees ?? 0);

  // Phase 2: eviction under disk pressure, least recently used first, never the protected ones.
  const goals = diskGoals(input, warnings);
  const stayingChildren = new Map<string, number>();
  for (const n of nodes.values()) {
    stayingChildren.set(n.id, n.children.filter((c) => !deleted.has(c)).length);
  }
  const lru = [...nodes.values()].filter((n) => n.protect.length === 0 && !deleted.has(n.id)).sort(byAge);
  while (true) {
    const unmet = goals.filter((g) => g.shortBy(freed) > 0);
    if (unmet.length === 0) break;
    const next = lru.find((n) => !deleted.has(n.id) && stayingChildren.get(n.id) === 0);
    if (!next) {
      for (const g of unmet) warnings.push(blockedWarning(g, freed, nodes, deleted, ledger, input));
      break;
    }
    let r = `least recently used (${formatTime(next.lastUsed)}): evicted ${unmet.map((g) => g.aim).join(' and ')}`;
    if (next.rank !== undefined && next.rank < N)
      r += `; it was #${next.rank + 1} of ${newest} (keep-images)`;
    emit(next, r);
    freed += deletions[deletions.length - 1]!.frees;
    why.delete(next.id);
    if (next.parentId !== undefined && stayingChildren.has(next.parentId)) {
      stayingChildren.set(next.parentId, stayingChildren.get(next.parentId)! - 1);
    }
  }

  const kept = [...nodes.values()]
    .filter((n) => !deleted.has(n.id))
    .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || cmp(a.id, b.id))
    .map((n) => ({ id: n.id, tags: n.tags, why: (why.get(n.id) ?? ['not in scope']).join('; ') }));

  const all: Array<Deletion | CachePrune> = cache ? [...deletions, cache] : deletions;
  const totalFrees = all.reduce((s, d) => s + d.frees, 0);
  const plan: RetentionPlan = {
    deletions: all,
    kept,
    warnings,
    totalFrees,
    projectedDockerDataBytes: Math.max(0, input.disk.dockerDataBytes - totalFrees),
  };
  if (input.disk.fsFreeBytes !== undefined) plan.projectedFsFreeBytes = input.disk.fsFreeBytes + totalFrees;
  return plan;
}

function planCache(input: RetentionInput): CachePrune | undefined {
  const rule = input.rules.pruneBuildCache;
  if (rule === false) return undefined;
  const all = rule === 'all';
  // Rounded up: a prune that is a little too cautious beats one that takes what was asked to stay.
  const olderThanSeconds = all ? undefined : Math.ceil(rule.olderThanMs / 1000);
  const cutoff = input.now - (olderThanSeconds ?? 0);
  const records = input.buildCache.filter((r) => !r.inUse && (all || (r.lastUsedAt ?? r.createdAt) < cutoff));
  // Shared records stay on disk as image layers, so they free nothing (Docker's df agrees).
  const frees = records.reduce((s, r) => s + (r.shared ? 0 : Math.max(0, r.size)), 0);
  const out: CachePrune = {
    kind: 'build-cache',
    all,
    reason: all
      ? 'prune-build-cache: all (every record not in use)'
      : `prune-build-cache: unused for longer than ${formatAge(olderThanSeconds!)}`,
    frees,
    records: records.length,
  };
  if (olderThanSeconds !== undefined) out.olderThanSeconds = olderThanSeconds;
  return out;
}

function diskGoals(input: RetentionInput, warnings: string[]): Goal[] {
  const { dockerDataBytes, fsTotalBytes, fsFreeBytes } = input.disk;
  const goals: Goal[] = [];
  const max = input.rules.maxDiskUsage;
  if (max?.kind === 'bytes') {
    goals.push({
      label: `max-disk-usage ${formatBytes(max.bytes)}`,
      aim: `to get under max-disk-usage ${formatBytes(max.bytes)}`,
      gap: 'over',
      shortBy: (f) => dockerDataBytes - f - max.bytes,
      describe: (f) => `Docker data would be ${formatBytes(Math.max(0, dockerDataBytes - f))}`,
    });
  } else if (max?.kind === 'percent') {
    if (fsTotalBytes === undefined || fsFreeBytes === undefined || fsTotalBytes <= 0) {
      warnings.push(
        `max-disk-usage ${max.percent}%: the size of the Docker filesystem is unknown; not applied`,
      );
    } else {
      const used = (f: number): number => fsTotalBytes - fsFreeBytes - f;
      goals.push({
        label: `max-disk-usage ${max.percent}%`,
        aim: `to get under max-disk-usage ${max.percent}%`,
        gap: 'over',
        shortBy: (f) => used(f) - (fsTotalBytes * max.percent) / 100,
        describe: (f) => `the disk would be ${((100 * used(f)) / fsTotalBytes).toFixed(1)}% used`,
      });
    }
  }
  const need = input.requiredFreeBytes;
  if (need !== undefined) {
    if (fsFreeBytes === undefined) {
      warnings.push(
        `${formatBytes(need)} must be free for the deploy, but free space is unknown; not checked`,
      );
    } else {
      goals.push({
        label: `the ${formatBytes(need)} of free space the deploy needs`,
        aim: `to make room: the deploy needs ${formatBytes(need)} free`,
        gap: 'short',
        shortBy: (f) => need - (fsFreeBytes + f),
        describe: (f) => `${formatBytes(fsFreeBytes + f)} would be free`,
      });
    }
  }
  return goals;
}

/** Says by how much a goal stays unmet and what holds the rest of the space. */
function blockedWarning(
  goal: Goal,
  freed: number,
  nodes: Map<string, Node>,
  deleted: Set<string>,
  ledger: LayerLedger,
  input: RetentionInput,
): string {
  const groups: Array<[string, string[]]> = [
    ['the active image', []],
    ['the rollback image', []],
    ['used by containers', []],
    ['protected by protect-labels', []],
    ["other apps' images (prune-scope: app)", []],
    ['parents of images that stay', []],
  ];
  const order: Array<ProtectKind | 'parent'> = [
    'active',
    'rollback',
    'container',
    'label',
    'scope',
    'parent',
  ];
  for (const n of nodes.values()) {
    if (deleted.has(n.id)) continue;
    groups[order.indexOf(n.protect[0]?.kind ?? 'parent')]![1].push(n.name);
  }
  const blockers = groups
    .filter(([, names]) => names.length > 0)
    .map(([label, names]) => `${label}: ${names.length} (${listSome(names)})`);
  const images = ledger.held();
  const data = Math.max(0, input.disk.dockerDataBytes - freed);
  const other = Math.max(0, data - images);
  return (
    `${goal.label}: still ${formatBytes(goal.shortBy(freed))} ${goal.gap} after removing every image that may go ` +
    `(${goal.describe(freed)}); blocked by ${blockers.length > 0 ? blockers.join(', ') : 'no image'}; ` +
    `images that stay hold ${formatBytes(images)}, other Docker data (containers, volumes, build cache) ${formatBytes(other)}`
  );
}

function listSome(items: string[]): string {
  return items.length <= 3
    ? items.join(', ')
    : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
