// What each image layer costs, like `dive`: the instruction that made it, its size, and the WASTED
// bytes — copies of files that a later layer overwrote or deleted. Those bytes still ship with the
// image (layers are immutable) but no container can ever see them.
//
// Part 1 is pure: it works on file listings and history records. Part 2 reads a `docker save`
// archive as a stream and lists every layer's files without ever buffering a layer.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { extract, type Header } from 'tar-stream';

export interface LayerFile {
  path: string;
  size: number;
  type: 'file' | 'dir' | 'symlink' | 'link' | 'other';
}
/** One layer's tar listing. Lists are ordered bottom → top. */
export interface LayerListing {
  index: number;
  diffId?: string;
  files: LayerFile[];
}
export interface WasteEntry {
  path: string;
  bytes: number;
  /** Indexes of the layers that hold the wasted copies. */
  layers: number[];
  reason: 'overwritten' | 'deleted';
}
export interface WasteReport {
  wastedBytes: number;
  totalFileBytes: number;
  /** 0..1 like dive: 1 - wasted/total (1 when there are no bytes at all). */
  efficiency: number;
  /** Biggest first, at most 10. */
  top: WasteEntry[];
}
/** An entry of Docker's image history (GET /images/{name}/history): NEWEST FIRST. */
export interface HistoryEntry {
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment?: string;
  Tags?: string[] | null;
  Id?: string;
}
/** An entry of the image config's `history` (oldest first). */
export interface ConfigHistoryEntry {
  created_by?: string;
  empty_layer?: boolean;
}
export interface LayerRow {
  index: number;
  size: number;
  instruction: string;
  diffId?: string;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** Tar paths come as './a/b', '/a/b', 'a/b/' or 'a//b'; all of them mean 'a/b'. */
function normalizePath(p: string): string {
  // Most paths are clean already; skip the split for them (listings run to 100k+ entries).
  if (!/(?:^|\/)\.?(?:\/|$)/.test(p)) return p;
  return p
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Only regular files carry bytes: a hard link shares its target's, directories have none. */
function bytesOf(f: LayerFile): number {
  return f.type === 'file' && Number.isFinite(f.size) && f.size > 0 ? f.size : 0;
}

// ---------------------------------------------------------------------------------------------
// Waste

/** A path of the merged filesystem as seen from the layers processed so far. */
interface Node {
  type: LayerFile['type'];
  size: number;
  layer: number;
  children?: Map<string, Node>; // only directories have (or get) one
}

const newNode = (type: LayerFile['type'], size: number, layer: number): Node => ({ type, size, layer });
const childrenOf = (n: Node): Map<string, Node> => (n.children ??= new Map());

/**
 * Stacks the layers the way overlayfs does and counts every file copy that ends up hidden.
 * Each copy is hidden at most once (it leaves the tree), so wasted ≤ total always holds, and
 * wasted = total − (bytes visible in the final image).
 */
export function computeWaste(layers: readonly LayerListing[]): WasteReport {
  const root = newNode('dir', 0, -1);
  const waste = new Map<string, WasteEntry>();
  let totalFileBytes = 0;
  let wastedBytes = 0;

  /** Hides `name` (and its subtree) under `parent`; a deleted directory is reported once, with the sum. */
  const hide = (parent: Node, name: string, path: string, reason: WasteEntry['reason']): void => {
    const node = parent.children?.get(name);
    if (!node) return;
    parent.children!.delete(name);
    record(path, reason, [node]);
  };
  const record = (path: string, reason: WasteEntry['reason'], nodes: Node[]): void => {
    let bytes = 0;
    const held: number[] = []; // a handful of layer indexes at most: an array beats a Set here
    for (const stack = [...nodes]; stack.length > 0;) {
      const n = stack.pop()!;
      if (n.type === 'file' && n.size > 0) {
        bytes += n.size;
        if (!held.includes(n.layer)) held.push(n.layer);
      }
      // no spread into push(): a directory may hold 100k entries
      if (n.children) for (const c of n.children.values()) stack.push(c);
    }
    if (bytes === 0) return;
    wastedBytes += bytes;
    const key = `${reason}\0${path}`;
    const entry = waste.get(key);
    if (!entry) {
      waste.set(key, { path: path === '' ? '/' : path, bytes, layers: held.sort((a, b) => a - b), reason });
      return;
    }
    entry.bytes += bytes;
    for (const l of held) if (!entry.layers.includes(l)) entry.layers.push(l);
    entry.layers.sort((a, b) => a - b);
  };
  /**
   * Walks down to the directory `segs` names in the current tree. A non-directory on the way is
   * replaced by this layer's (possibly implicit) directory, so it is hidden. Returns the directory,
   * or undefined when the path does not exist below.
   */
  const lowerDir = (segs: readonly string[]): Node | undefined => {
    let cur = root;
    for (let i = 0; i < segs.length; i++) {
      const child = cur.children?.get(segs[i]!);
      if (!child) return undefined;
      if (child.type !== 'dir') {
        hide(cur, segs[i]!, segs.slice(0, i + 1).join('/'), 'overwritten');
        return undefined;
      }
      cur = child;
    }
    return cur;
  };

  for (const layer of layers) {
    const entries: Array<{ f: LayerFile; path: string; segs: string[]; base: string; whiteout: boolean }> =
      [];
    for (const f of layer.files) {
      const path = normalizePath(f.path);
      if (path === '') continue;
      const segs = path.split('/');
      const base = segs.pop()!;
      entries.push({ f, path, segs, base, whiteout: base.startsWith(WHITEOUT) });
    }

    // Phase 1: what this layer hides below it. It runs before any of the layer's own entries are
    // added because a whiteout never hides entries of its own layer, whatever the tar order.
    for (const { f, path, segs, base, whiteout } of entries) {
      const dir = lowerDir(segs);
      if (base === OPAQUE) {
        if (dir?.children && dir.children.size > 0) {
          const hidden = [...dir.children.values()];
          dir.children.clear();
          record(segs.join('/'), 'deleted', hidden);
        }
      } else if (whiteout) {
        const name = base.slice(WHITEOUT.length);
        if (dir) hide(dir, name, [...segs, name].join('/'), 'deleted');
      } else {
        totalFileBytes += bytesOf(f);
        const lower = dir?.children?.get(base);
        // Directories merge; anything else replaces the lower entry and the subtree under it.
        if (dir && lower && !(lower.type === 'dir' && f.type === 'dir')) hide(dir, base, path, 'overwritten');
      }
    }

    // Phase 2: add the layer's own entries on top. Whatever gets hidden here is a duplicate inside
    // this very layer (a tar may hold a path twice; the last one wins).
    for (const { f, path, segs, base, whiteout } of entries) {
      if (whiteout) continue;
      let cur = root;
      for (let i = 0; i < segs.length; i++) {
        const seg = segs[i]!;
        let child = cur.children?.get(seg);
        if (child && child.type !== 'dir') {
          hide(cur, seg, segs.slice(0, i + 1).join('/'), 'overwritten');
          child = undefined;
        }
        if (!child) {
          child = newNode('dir', 0, layer.index);
          childrenOf(cur).set(seg, child);
        }
        cur = child;
      }
      const existing = cur.children?.get(base);
      if (existing && existing.type === 'dir' && f.type === 'dir') {
        existing.layer = layer.index;
        continue;
      }
      if (existing) hide(cur, base, path, 'overwritten');
      childrenOf(cur).set(base, newNode(f.type, bytesOf(f), layer.index));
    }
  }

  const top = [...waste.values()]
    .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .slice(0, 10);
  const efficiency = totalFileBytes === 0 ? 1 : Math.min(1, Math.max(0, 1 - wastedBytes / totalFileBytes));
  return { wastedBytes, totalFileBytes, efficiency, top };
}

// ---------------------------------------------------------------------------------------------
// History → rows

const MAX_INSTRUCTION = 120;
const SHELL = /^(?:\/usr)?\/bin\/(?:ba|da|a)?sh (?:-o pipefail )?-e?c /;

/**
 * Makes a history `created_by` readable. The forms seen in the wild:
 *   buildkit:  'RUN |2 A=1 B=2 /bin/sh -c make # buildkit', 'COPY a /a # buildkit', 'ENV A=1'
 *   classic:   '/bin/sh -c make', '|1 A=1 /bin/sh -c make', '/bin/sh -c #(nop)  ENV A=1'
 * A classic shell line with no '#(nop)' was a RUN, so it gets the keyword back.
 */
function cleanInstruction(createdBy: string | undefined): string {
  let s = (createdBy ?? '').trim();
  let run = false;
  if (/^RUN\s/.test(s)) {
    run = true;
    s = s.slice(3).trimStart();
  }
  // '|N K=V ...': the build args the step saw (values cannot hold spaces in this form anyway).
  const args = /^\|(\d+)\s+/.exec(s);
  if (args) {
    s = s.slice(args[0].length);
    for (let n = Number(args[1]); n > 0; n--) s = s.replace(/^[^\s=]+=\S*\s*/, '');
  }
  if (SHELL.test(s)) {
    s = s.replace(SHELL, '').trimStart();
    if (!s.startsWith('#(nop)')) run = true;
  }
  if (s.startsWith('#(nop)')) s = s.slice('#(nop)'.length);
  s = s
    .replace(/\s*# buildkit$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (run) s = `RUN ${s}`.trimEnd();
  return s.length > MAX_INSTRUCTION ? `${s.slice(0, MAX_INSTRUCTION - 1)}…` : s;
}

/** Lines up history entries (bottom → top) with diffIds, aligning the TOP: a shortfall is a base
 *  image that recorded no history, so the missing rows are the bottom ones. */
function rowsFor(
  makers: ReadonlyArray<{ instruction: string; size: number }>,
  diffIds: readonly string[],
): LayerRow[] {
  const shift = diffIds.length - makers.length;
  return diffIds.map((diffId, index) => {
    const m = makers[index - shift];
    return { index, size: m?.size ?? 0, instruction: m?.instruction ?? '', diffId };
  });
}

/**
 * Exact: the image config marks every entry that made no layer with `empty_layer: true`, so the
 * remaining entries are the layers, in diffId order. `sizes` (bottom → top) is optional because
 * the config does not record sizes.
 */
export function layerRowsFromConfig(
  configHistory: ReadonlyArray<ConfigHistoryEntry>,
  diffIds: readonly string[],
  sizes?: readonly number[],
): LayerRow[] {
  const makers = configHistory
    .filter((h) => h.empty_layer !== true)
    .map((h) => ({ instruction: cleanInstruction(h.created_by), size: 0 }));
  return rowsFor(makers, diffIds).map((r) => ({ ...r, size: sizes?.[r.index] ?? 0 }));
}

// Instructions that only change the config. WORKDIR is here but may create its directory, so it
// ranks just above the rest when a layer is still unaccounted for.
const METADATA = new Set([
  'ENV',
  'LABEL',
  'CMD',
  'ENTRYPOINT',
  'EXPOSE',
  'ARG',
  'USER',
  'VOLUME',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
  'ONBUILD',
  'MAINTAINER',
  'WORKDIR',
]);

/**
 * Best effort, for when only the history API is at hand: it has no empty_layer flag, and a layer
 * that holds only directories (RUN mkdir, WORKDIR) reports Size 0 just like an ENV does. So the
 * entries are ranked by how surely they made a layer — Size > 0, then RUN/COPY/ADD/unknown with
 * Size 0, then WORKDIR, then pure metadata — and the best diffIds.length of them (ties: lowest
 * first) are taken as the layers.
 */
export function layerRows(history: readonly HistoryEntry[], diffIds: readonly string[]): LayerRow[] {
  const bottomUp = [...history].reverse().map((h, pos) => {
    const instruction = cleanInstruction(h.CreatedBy);
    const keyword = instruction.split(' ', 1)[0]!.toUpperCase();
    const rank = h.Size > 0 ? 0 : !METADATA.has(keyword) ? 1 : keyword === 'WORKDIR' ? 2 : 3;
    return { pos, rank, instruction, size: Math.max(0, h.Size) };
  });
  const makers = [...bottomUp]
    .sort((a, b) => a.rank - b.rank || a.pos - b.pos)
    .slice(0, diffIds.length)
    .sort((a, b) => a.pos - b.pos);
  return rowsFor(makers, diffIds);
}

/** The n biggest layers, biggest first (ties: lower layer first). */
export function biggestLayers(rows: readonly LayerRow[], n = 5): LayerRow[] {
  return [...rows].sort((a, b) => b.size - a.size || a.index - b.index).slice(0, Math.max(0, n));
}

// ---------------------------------------------------------------------------------------------
// Reading a `docker save` archive
//
// The outer tar is read entry by entry. Every entry is pushed through a Sink chosen by sniffing
// its first 512 bytes: a tar (or gzip/zstd of a tar) is a layer and is listed by a nested
// tar-stream extract that drains file bodies; small JSON is kept (manifest.json comes LAST in the
// legacy layout, so nothing can be ordered until the end); the rest is discarded. Sinks never
// throw from write(), so the outer entry is always drained and the archive stays in step even
// when one blob turns out not to be what it looked like.

/** Bigger JSON is not an image config or manifest; it is skipped rather than held in memory. */
const JSON_LIMIT = 8 * 1024 * 1024;
const BLOCK = 512;

interface Sink<T> {
  /** Resolves when the sink can take more (backpressure); never rejects. */
  write(chunk: Buffer): Promise<void>;
  /** Resolves with the result, or rejects with why the content could not be read. */
  end(): Promise<T>;
}

type Content =
  { kind: 'layer'; files: LayerFile[]; digest: string } | { kind: 'json'; value: unknown } | { kind: 'skip' };

const SKIP: Content = { kind: 'skip' };
const discard: Sink<Content> = { write: async () => {}, end: async () => SKIP };

interface Flow {
  readonly destroyed: boolean;
  once(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}
/** Waits for 'drain' — or 'close', so a stream that died while full does not hang the writer. */
function drained(w: Flow): Promise<void> {
  if (w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.once('drain', done);
    w.once('close', done);
  });
}

function toLayerFile(h: Header): LayerFile {
  const type: LayerFile['type'] =
    h.type === 'file' || h.type === 'contiguous-file'
      ? 'file'
      : h.type === 'directory'
        ? 'dir'
        : h.type === 'symlink' || h.type === 'link'
          ? h.type
          : 'other';
  return { path: normalizePath(h.name), size: type === 'file' ? h.size : 0, type };
}

/** Lists a tar's entries and hashes its bytes (the sha256 of an uncompressed layer is its diffId). */
function tarListing(): Sink<Content> {
  const ex = extract();
  const hash = createHash('sha256');
  const files: LayerFile[] = [];
  let failure: Error | undefined;
  ex.on('entry', (header, body, next) => {
    const f = toLayerFile(header);
    if (f.path !== '') files.push(f);
    body.on('error', () => {}); // the extract reports the same error, once
    body.on('end', () => next());
    body.resume(); // drain the body: only the header matters
  });
  ex.on('error', (err) => (failure ??= err));
  const closed = new Promise<void>((resolve) => ex.once('close', () => resolve()));
  return {
    async write(chunk) {
      hash.update(chunk);
      if (failure || ex.destroyed) return;
      if (!ex.write(chunk)) await drained(ex as unknown as Flow);
    },
    async end() {
      if (!ex.destroyed) ex.end(undefined);
      await closed;
      if (failure) throw failure;
      return { kind: 'layer', files, digest: `sha256:${hash.digest('hex')}` };
    },
  };
}

/** Decompresses into `inner`, keeping backpressure end to end. */
function inflating(z: zlib.Gunzip | zlib.ZstdDecompress, inner: Sink<Content>): Sink<Content> {
  let failure: Error | undefined;
  z.on('error', (err) => (failure ??= err));
  const moved = (async () => {
    for await (const chunk of z) await inner.write(chunk as Buffer);
  })().catch((err: Error) => (failure ??= err));
  return {
    async write(chunk) {
      if (failure || z.destroyed) return;
      if (!z.write(chunk)) await drained(z);
    },
    async end() {
      if (!z.destroyed) z.end();
      await moved;
      const result = await inner.end().catch((err: Error) => (failure ??= err));
      if (failure) throw failure;
      return result as Content;
    },
  };
}

function collectingJson(): Sink<Content> {
  let parts: Buffer[] = [];
  let size = 0;
  return {
    async write(chunk) {
      size += chunk.length;
      if (size > JSON_LIMIT) parts = [];
      else parts.push(chunk);
    },
    async end() {
      if (size > JSON_LIMIT) return SKIP;
      try {
        return { kind: 'json', value: JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown };
      } catch {
        return SKIP; // looked like JSON, was not: not ours to judge
      }
    },
  };
}

/** Holds the first 512 bytes, then lets `choose` pick the sink that gets everything. */
function sniffing(choose: (head: Buffer) => Sink<Content>): Sink<Content> {
  let parts: Buffer[] = [];
  let size = 0;
  let inner: Sink<Content> | undefined;
  const open = async () => {
    const head = Buffer.concat(parts);
    parts = [];
    inner = choose(head);
    if (head.length > 0) await inner.write(head);
  };
  return {
    async write(chunk) {
      if (inner) return inner.write(chunk);
      parts.push(chunk);
      size += chunk.length;
      if (size >= BLOCK) await open();
    },
    async end() {
      if (!inner) await open();
      return inner!.end();
    },
  };
}

type Kind = 'tar' | 'gzip' | 'zstd' | 'json' | 'other';
function sniff(head: Buffer): Kind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= BLOCK) {
    // 'ustar' covers POSIX, PAX and GNU tars; an all-zero first block is an empty tar (what an
    // empty layer is: just the end-of-archive marker).
    if (head.toString('latin1', 257, 262) === 'ustar') return 'tar';
    if (head.subarray(0, BLOCK).every((b) => b === 0)) return 'tar';
  }
  const first = head.toString('utf8', 0, Math.min(head.length, 64)).trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'other';
}

/** zstd layers exist with the containerd image store; Node has zstd from 22.15/23.8 on. */
function decompressor(kind: 'gzip' | 'zstd'): zlib.Gunzip | zlib.ZstdDecompress | undefined {
  if (kind === 'gzip') return zlib.createGunzip();
  return typeof zlib.createZstdDecompress === 'function' ? zlib.createZstdDecompress() : undefined;
}

function layerOrNothing(head: Buffer): Sink<Content> {
  return sniff(head) === 'tar' ? tarListing() : discard;
}

function outerSink(name: string, size: number): Sink<Content> {
  // JSON worth keeping: manifest.json, index.json, '<config>.json' (legacy) and blobs (OCI).
  const mayBeJson = (name.endsWith('.json') || name.startsWith('blobs/')) && size <= JSON_LIMIT;
  return sniffing((head) => {
    const kind = sniff(head);
    if (kind === 'tar') return tarListing();
    if (kind === 'gzip' || kind === 'zstd') {
      const z = decompressor(kind);
      return z ? inflating(z, sniffing(layerOrNothing)) : discard;
    }
    return kind === 'json' && mayBeJson ? collectingJson() : discard;
  });
}

// Small guards for the untyped JSON of manifests and configs.
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined;
const blobPath = (digest: unknown): string | undefined =>
  typeof digest === 'string' && /^[a-z0-9]+:[a-f0-9]+$/.test(digest)
    ? `blobs/${digest.replace(':', '/')}`
    : undefined;

interface ImageRef {
  config?: string;
  layers: string[];
}

/**
 * The image to report: the first of manifest.json (legacy and Docker ≥ 25 saves) or, for a pure
 * OCI layout, the first manifest reachable from index.json whose layers were all found — that
 * skips attestation manifests, whose "layers" are JSON.
 */
function pickImage(jsons: Map<string, unknown>, isLayer: (path: string) => boolean): ImageRef {
  const manifest = jsons.get('manifest.json');
  if (Array.isArray(manifest) && isObj(manifest[0])) {
    const layers = strings(manifest[0].Layers);
    const config = manifest[0].Config;
    if (layers) return { layers, ...(typeof config === 'string' && { config }) };
  }
  const search = (doc: unknown, depth: number): ImageRef | undefined => {
    if (!isObj(doc) || depth > 4) return undefined;
    if (Array.isArray(doc.layers)) {
      const layers = doc.layers.map((l) => blobPath(isObj(l) ? l.digest : undefined));
      if (!layers.every((p): p is string => p !== undefined && isLayer(p))) return undefined;
      const config = blobPath(isObj(doc.config) ? doc.config.digest : undefined);
      return { layers, ...(config && { config }) };
    }
    if (!Array.isArray(doc.manifests)) return undefined;
    for (const m of doc.manifests) {
      const p = blobPath(isObj(m) ? m.digest : undefined);
      const found = p && search(jsons.get(p), depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const found = search(jsons.get('index.json'), 0);
  if (found) return found;
  throw new Error('not a docker save archive: no manifest.json or index.json describing an image');
}

/**
 * Lists the layers of the (first) image in a `docker save` stream, bottom → top, with the
 * config's diffIds and history. Memory stays bounded by the listings and small JSON documents.
 */
export async function listSaveLayers(
  save: Readable,
): Promise<{ layers: LayerListing[]; configHistory?: ConfigHistoryEntry[] }> {
  const listings = new Map<string, { files: LayerFile[]; digest: string }>();
  const jsons = new Map<string, unknown>();
  const links = new Map<string, string>(); // repeated layers are saved once and linked to
  const unreadable = new Map<string, string>();

  const outer = extract();
  // Fed by hand rather than save.pipe(outer): pipe() drops the source's errors on the floor, and
  // the extract (a streamx Writable) does not take part in node's pipeline().
  const feeding = (async () => {
    try {
      for await (const chunk of save) {
        if (outer.destroyed) return;
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        if (!outer.write(buf)) await drained(outer as unknown as Flow);
      }
      outer.end(undefined);
    } catch (err) {
      outer.destroy(err as Error);
    }
  })();

  let failed = true;
  try {
    for await (const entry of outer) {
      const h = entry.header;
      const name = normalizePath(h.name);
      if (h.type === 'symlink' || h.type === 'link') {
        // A symlink is relative to its own directory; a hard link names a path from the root.
        const target =
          h.type === 'symlink' && !h.linkname.startsWith('/')
            ? posix.join(posix.dirname(name), h.linkname)
            : h.linkname;
        links.set(name, normalizePath(target));
      }
      const isFile = h.type === 'file' || h.type === 'contiguous-file';
      const sink = isFile ? outerSink(name, h.size) : discard;
      for await (const chunk of entry) await sink.write(chunk as Buffer);
      try {
        const content = await sink.end();
        if (content.kind === 'layer') listings.set(name, content);
        else if (content.kind === 'json') jsons.set(name, content.value);
      } catch (err) {
        unreadable.set(name, err instanceof Error ? err.message : String(err));
      }
    }
    failed = false;
  } finally {
    outer.destroy();
    // Giving up half way: stop the producer too, or a `docker save` would block on a full pipe.
    if (failed) save.destroy();
    await feeding;
  }

  const resolve = (p: string): string => {
    let cur = normalizePath(p);
    for (let hops = 0; hops < 16 && links.has(cur); hops++) cur = links.get(cur)!;
    return cur;
  };
  const image = pickImage(jsons, (p) => listings.has(resolve(p)));
  const config = image.config === undefined ? undefined : jsons.get(resolve(image.config));
  const rootfs = isObj(config) && isObj(config.rootfs) ? config.rootfs : undefined;
  const diffIds = strings(rootfs?.diff_ids) ?? [];

  const layers = image.layers.map((p, index): LayerListing => {
    const listing = listings.get(resolve(p));
    if (!listing) {
      const why = unreadable.get(resolve(p));
      throw new Error(
        `layer ${p} named by the manifest ${why ? `could not be read: ${why}` : 'is not in the archive'}`,
      );
    }
    return { index, diffId: diffIds[index] ?? listing.digest, files: listing.files };
  });

  const history = isObj(config) && Array.isArray(config.history) ? config.history : undefined;
  if (!history) return { layers };
  const configHistory = history.filter(isObj).map((h) => {
    const e: ConfigHistoryEntry = {};
    if (typeof h.created_by === 'string') e.created_by = h.created_by;
    if (h.empty_layer === true) e.empty_layer = true;
    return e;
  });
  return { layers, configHistory };
}
