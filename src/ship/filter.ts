// Streams a `docker save` tar through, leaving out the layer files of the layers the host already has.
// Entries pass one at a time and in order; only small JSON entries are held in memory, layer data flows
// through with backpressure (extract -> entry -> pack -> our readable side), so no layer is buffered.
import { createHash } from 'node:crypto';
import { Duplex } from 'node:stream';
import { extract as tarExtract, pack as tarPack, type ExtractEvents, type Header } from 'tar-stream';
import { chainIds } from './plan.js';

export interface FilterResult {
  layout: 'legacy' | 'oci' | 'unknown';
  /** Entries written to the filtered tar. */
  entries: number;
  /** Layer positions whose data was left out, ascending. */
  droppedLayers: number[];
  droppedBytes: number;
  keptLayerBytes: number;
  /** Layer files whose position could not be told: always sent. */
  unmatchedLayerFiles: string[];
}

export interface FilterOptions {
  diffIds: readonly string[];
  /** Layer positions to drop; a file shared by several positions goes only if all of them are here. */
  skip: ReadonlySet<number>;
}

/** Non-layer entries below this size may be held in memory (v1 jsons, configs, manifests). */
const SMALL = 1024 * 1024;
const OCI_BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/;
const LEGACY_ENTRY = /^([0-9a-f]{64})\/(VERSION|json|layer\.tar)$/;

export function filterSave(opts: FilterOptions): { stream: Duplex; result: Promise<FilterResult> } {
  const { diffIds, skip } = opts;
  const chains = chainIds(diffIds);
  const positions = new Map<string, number[]>(); // diffId -> every position it holds
  diffIds.forEach((d, i) => {
    const at = positions.get(d);
    if (at) at.push(i);
    else positions.set(d, [i]);
  });
  const dirIndex = new Map<string, number>(); // legacy <v1id> -> layer position, learnt from <v1id>/json

  const dropped = new Set<number>();
  const unmatched: string[] = [];
  let entries = 0;
  let droppedBytes = 0;
  let keptLayerBytes = 0;
  let sawOci = false;
  let sawLegacy = false;

  const extract = tarExtract();
  const pack = tarPack();
  let settled = false;
  let resolve!: (r: FilterResult) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<FilterResult>((res, rej) => ((resolve = res), (reject = rej)));
  result.catch(() => {}); // the stream's 'error' reports it too; awaiting result stays optional

  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    reject(err);
    extract.destroy(err);
    pack.destroy(err);
    if (!stream.destroyed) stream.destroy(err);
  };

  const stream = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (extract.write(chunk)) cb();
      else extract.once('drain', () => cb());
    },
    final(cb) {
      extract.once('finish', () => cb());
      extract.end(null);
    },
    read() {
      pack.resume();
    },
    destroy(err, cb) {
      fail(err ?? new Error('filterSave: stream destroyed before the end of the tar'));
      cb(err);
    },
  });

  pack.on('data', (chunk) => {
    if (!stream.push(chunk)) pack.pause();
  });
  pack.on('end', () => {
    stream.push(null);
    if (settled) return;
    settled = true;
    const layout = sawOci ? 'oci' : sawLegacy ? 'legacy' : 'unknown';
    const droppedLayers = [...dropped].sort((a, b) => a - b);
    resolve({ layout, entries, droppedLayers, droppedBytes, keptLayerBytes, unmatchedLayerFiles: unmatched });
  });
  pack.on('error', fail);
  extract.on('error', fail);
  extract.on('finish', () => pack.finalize());

  const emit = (header: Header, body: Source | Buffer): Promise<void> =>
    new Promise((res, rej) => {
      const done = (err?: Error | null) => (err ? rej(err) : (entries++, res()));
      if (Buffer.isBuffer(body)) pack.entry({ ...header }, body, done);
      else body.pipe(pack.entry({ ...header }, done));
    });

  // A layer file: gone only if every position holding its diffId is skipped (other positions may
  // share it: OCI has one blob per diffId, legacy links repeats to the first copy).
  const layerFile = (header: Header, source: Source, diffId: string, own: readonly number[]) => {
    if ((positions.get(diffId) ?? []).every((i) => skip.has(i))) {
      own.forEach((i) => dropped.add(i));
      droppedBytes += header.size;
      return drain(source);
    }
    keptLayerBytes += header.size;
    return emit(header, source);
  };
  const sendUnmatched = (header: Header, body: Source | Buffer) => {
    unmatched.push(header.name);
    keptLayerBytes += header.size;
    return emit(header, body);
  };

  const handle = async (header: Header, source: Source): Promise<void> => {
    const name = header.name.replace(/^\.\//, '');
    const blob = OCI_BLOB.exec(name);
    const legacy = LEGACY_ENTRY.exec(name);
    if (blob || name === 'oci-layout' || name === 'index.json') sawOci = true;
    if (legacy) sawLegacy = true;

    if (blob) {
      // OCI layer blobs are uncompressed, so their digest is the diffId.
      const diffId = `sha256:${blob[1]}`;
      const own = positions.get(diffId);
      if (own) return layerFile(header, source, diffId, own);
      // Config, manifest or v1 json; a compressed layer (containerd store) would not match a diffId.
      if (header.size >= SMALL) return sendUnmatched(header, source);
      const body = await collect(source);
      return looksLikeJson(body) || body.length === 0 ? emit(header, body) : sendUnmatched(header, body);
    }
    if (legacy?.[2] === 'json' && header.size < SMALL) {
      const body = await collect(source);
      const index = legacyLayerIndex(legacy[1] as string, body.toString('utf8'), chains);
      if (index !== undefined) dirIndex.set(legacy[1] as string, index);
      return emit(header, body);
    }
    if (legacy?.[2] === 'layer.tar') {
      // <v1id>/json sorts before <v1id>/layer.tar, so the directory is mapped by now if it can be.
      const index = dirIndex.get(legacy[1] as string);
      if (index === undefined) return sendUnmatched(header, source);
      return layerFile(header, source, diffIds[index] as string, [index]);
    }
    return emit(header, source);
  };

  extract.on('entry', (header, source, next) => {
    handle(header, source).then(
      () => next(),
      (err: Error) => next(err),
    );
  });

  return { stream, result };
}

type Source = ExtractEvents['entry'][1];

function collect(source: Source): Promise<Buffer> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    source.on('data', (c) => chunks.push(c as Buffer));
    source.on('end', () => res(Buffer.concat(chunks)));
    source.on('error', rej);
  });
}

function drain(source: Source): Promise<void> {
  return new Promise((res, rej) => {
    source.on('end', () => res());
    source.on('error', rej);
    source.resume();
  });
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('latin1', 0, 64).trimStart()[0];
  return first === '{' || first === '[';
}

/**
 * The layer position whose v1 id is `dir`. Docker: v1ID = sha256(json.Marshal(map[string]*RawMessage))
 * of the v1 json's fields without "id", plus "layer_id" = the chain id and "parent" = "sha256:<hex>".
 * Lower layers were hashed before "os" was set, the top layer with it, so both variants are tried.
 * Values are kept as raw text (Go re-emits RawMessage compacted and HTML-escaped, keeping key order,
 * number literals and escapes as written): re-serializing parsed JSON would reorder integer-like keys.
 */
function legacyLayerIndex(dir: string, json: string, chains: readonly string[]): number | undefined {
  const members = topLevelMembers(json);
  if (!members) return undefined;
  const parentRaw = members.get('parent');
  const parent = parentRaw === undefined ? '' : (JSON.parse(parentRaw) as unknown);
  if (typeof parent !== 'string') return undefined;
  members.delete('id');
  members.delete('parent');
  if (parent) members.set('parent', goCompact(JSON.stringify(`sha256:${parent}`)));
  const withoutOs = new Map(members);
  withoutOs.delete('os');
  for (let i = 0; i < chains.length; i++) {
    for (const variant of [withoutOs, members]) {
      variant.set('layer_id', goCompact(JSON.stringify(chains[i])));
      if (sha256Hex(goMarshalRawMap(variant)) === dir) return i;
    }
  }
  return undefined;
}

const HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's json.Compact with HTML escaping: no whitespace outside strings; <, >, &, U+2028/9 escaped. */
function goCompact(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') continue;
    out += HTML_ESCAPES[ch] ?? ch;
  }
  return out;
}

/** Top-level members of a JSON object as key -> compacted raw value text (last duplicate wins, as in Go). */
function topLevelMembers(json: string): Map<string, string> | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  } catch {
    return undefined;
  }
  const text = goCompact(json); // valid JSON from here on: only structure needs tracking
  const members = new Map<string, string>();
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 1;
  let colon = -1;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    else if (depth === 0 && c === ':' && colon < 0) colon = i;
    else if (depth === 0 && (c === ',' || c === '}')) {
      if (colon > 0) members.set(JSON.parse(text.slice(start, colon)) as string, text.slice(colon + 1, i));
      start = i + 1;
      colon = -1;
    }
  }
  return members;
}

/** json.Marshal of a map[string]*json.RawMessage: keys sorted bytewise, values as given. */
function goMarshalRawMap(members: Map<string, string>): string {
  const keys = [...members.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goCompact(JSON.stringify(k))}:${members.get(k)}`).join(',')}}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
