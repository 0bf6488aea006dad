import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { pack, type Pack } from 'tar-stream';
import {
  biggestLayers,
  computeWaste,
  layerRows,
  layerRowsFromConfig,
  listSaveLayers,
  type HistoryEntry,
  type LayerFile,
  type LayerListing,
  type LayerRow,
} from '../../src/report/layers.js';

const MiB = 1024 * 1024;
const fixture = (name: string) => new URL(`../fixtures/save/${name}`, import.meta.url);

// ---------------------------------------------------------------------------------------------
// Helpers: listings and tars built with tar-stream's pack.

const file = (path: string, size: number): LayerFile => ({ path, size, type: 'file' });
const dir = (path: string): LayerFile => ({ path, size: 0, type: 'dir' });
const hardlink = (path: string, size = 0): LayerFile => ({ path, size, type: 'link' });
const whiteout = (path: string): LayerFile => ({ path, size: 0, type: 'file' });
const stack = (...layers: LayerFile[][]): LayerListing[] => layers.map((files, index) => ({ index, files }));

/** A body written in chunks, so a big file never exists as one buffer. */
interface Chunked {
  size: number;
  chunks: () => Iterable<Buffer> | AsyncIterable<Buffer>;
}
interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  body?: string | Buffer | Chunked;
}

function waitDrain(s: { once(e: 'drain', f: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => s.once('drain', () => resolve()));
}

async function addEntry(p: Pack, e: TarEntry): Promise<void> {
  const type = e.type ?? 'file';
  const header = { name: e.name, type, mtime: new Date(0), ...(e.linkname && { linkname: e.linkname }) };
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (type !== 'file') {
      p.entry(header, done);
    } else if (e.body === undefined || typeof e.body === 'string' || Buffer.isBuffer(e.body)) {
      p.entry(header, e.body ?? '', done);
    } else {
      const body = e.body;
      const sink = p.entry({ ...header, size: body.size }, done);
      void (async () => {
        for await (const chunk of body.chunks()) if (!sink.write(chunk)) await waitDrain(sink);
        sink.end(undefined);
      })().catch(reject);
    }
  });
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const p = pack();
  const out = collect(p);
  for (const e of entries) await addEntry(p, e);
  p.finalize();
  return out;
}

/** Replays a buffer in chunks of `size` bytes, like a socket would. */
function streamOf(buf: Buffer, size = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    })(),
  );
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A config as the daemon writes it; diffIds are the sha256 of the uncompressed layer tars. */
function configOf(layerTars: readonly Buffer[], history?: object[]): object {
  return {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layerTars.map((t) => `sha256:${sha256(t)}`) },
    history: history ?? layerTars.map((_, i) => ({ created_by: `RUN /bin/sh -c step${i} # buildkit` })),
  };
}

/**
 * A legacy (Docker ≤ 24) save: '<id>/layer.tar' per layer in id order — not layer order — and
 * manifest.json LAST, as the daemon writes it.
 */
async function legacySave(layerTars: readonly Buffer[], config: object | null = configOf(layerTars)) {
  const ids = layerTars.map((t, i) => sha256(`${i}:${sha256(t)}`));
  const configJson = JSON.stringify(config ?? {});
  const configName = `${sha256(configJson)}.json`;
  const byId = ids.map((id, i) => ({ id, tar: layerTars[i]! })).sort((a, b) => (a.id < b.id ? -1 : 1));
  const entries: TarEntry[] = [];
  for (const { id, tar } of byId) {
    entries.push(
      { name: `${id}/`, type: 'directory' },
      { name: `${id}/VERSION`, body: '1.0' },
      { name: `${id}/json`, body: JSON.stringify({ id }) },
      { name: `${id}/layer.tar`, body: tar },
    );
  }
  if (config) entries.push({ name: configName, body: configJson });
  entries.push(
    {
      name: 'manifest.json',
      body: JSON.stringify([
        { Config: configName, RepoTags: ['app:1'], Layers: ids.map((id) => `${id}/layer.tar`) },
      ]),
    },
    { name: 'repositories', body: JSON.stringify({ app: { '1': ids.at(-1) } }) },
  );
  return tarOf(entries);
}

// ---------------------------------------------------------------------------------------------
// computeWaste

describe('computeWaste', () => {
  test('no layers, no bytes: nothing wasted, efficiency 1', () => {
    expect(computeWaste([])).toEqual({ wastedBytes: 0, totalFileBytes: 0, efficiency: 1, top: [] });
  });

  test('THE key case: a 10 MiB file written in layer 1 and deleted by a whiteout in layer 2', () => {
    const r = computeWaste(
      stack(
        [file('etc/os-release', 100)],
        [dir('opt'), file('opt/big.bin', 10 * MiB)],
        [whiteout('opt/.wh.big.bin')],
      ),
    );
    expect(r.wastedBytes).toBe(10485760);
    expect(r.totalFileBytes).toBe(10485760 + 100);
    expect(r.efficiency).toBeCloseTo(1 - 10485760 / 10485860, 12);
    expect(r.top).toEqual([{ path: 'opt/big.bin', bytes: 10485760, layers: [1], reason: 'deleted' }]);
  });

  test('a file overwritten by a later layer wastes the lower copy, not the visible one', () => {
    const r = computeWaste(stack([file('etc/app.conf', 100)], [file('etc/app.conf', 40)]));
    expect(r).toEqual({
      wastedBytes: 100,
      totalFileBytes: 140,
      efficiency: 1 - 100 / 140,
      top: [{ path: 'etc/app.conf', bytes: 100, layers: [0], reason: 'overwritten' }],
    });
  });

  test('a path overwritten again and again is one entry holding every hidden copy', () => {
    const r = computeWaste(stack([file('x', 10)], [file('x', 20)], [file('x', 30)]));
    expect(r.wastedBytes).toBe(30);
    expect(r.top).toEqual([{ path: 'x', bytes: 30, layers: [0, 1], reason: 'overwritten' }]);
  });

  test('overwritten, then deleted: one entry per reason', () => {
    const r = computeWaste(stack([file('x', 10)], [file('x', 20)], [whiteout('.wh.x')]));
    expect(r.wastedBytes).toBe(30);
    expect(r.top).toEqual([
      { path: 'x', bytes: 20, layers: [1], reason: 'deleted' },
      { path: 'x', bytes: 10, layers: [0], reason: 'overwritten' },
    ]);
  });

  test('a whiteout of a directory deletes its whole subtree — and nothing that merely shares a prefix', () => {
    const r = computeWaste(
      stack(
        [dir('app'), file('app/a', 10), file('app/lib/b', 20), file('apple', 5), file('app2/c', 7)],
        [file('app/late', 3)],
        [whiteout('.wh.app')],
      ),
    );
    expect(r.wastedBytes).toBe(33);
    expect(r.totalFileBytes).toBe(45);
    expect(r.top).toEqual([{ path: 'app', bytes: 33, layers: [0, 1], reason: 'deleted' }]);
  });

  test('an opaque directory hides everything below it, but not what its own layer puts there', () => {
    const r = computeWaste(
      stack(
        [file('var/cache/a', 10), file('var/cache/sub/b', 20), file('var/keep', 1)],
        // tar order puts the new file BEFORE the marker: the marker must still not hide it
        [dir('var/cache'), file('var/cache/new', 5), whiteout('var/cache/.wh..wh..opq')],
      ),
    );
    expect(r.wastedBytes).toBe(30);
    expect(r.totalFileBytes).toBe(36);
    expect(r.top).toEqual([{ path: 'var/cache', bytes: 30, layers: [0], reason: 'deleted' }]);
  });

  test('an opaque directory that replaced nothing wastes nothing', () => {
    const r = computeWaste(stack([file('a', 1)], [file('b/x', 2), whiteout('b/.wh..wh..opq')]));
    expect(r.wastedBytes).toBe(0);
  });

  test('a whiteout hides only lower layers, never a file of its own layer', () => {
    const r = computeWaste(stack([file('b', 1)], [file('a', 7), whiteout('.wh.a')]));
    expect(r).toMatchObject({ wastedBytes: 0, totalFileBytes: 8 });
  });

  test('a directory replaced by a file hides the lower subtree', () => {
    const r = computeWaste(
      stack(
        [dir('opt/tool'), file('opt/tool/bin', 50), file('opt/tool/lib/x.so', 25)],
        [file('opt/tool', 3)],
      ),
    );
    expect(r.wastedBytes).toBe(75);
    expect(r.top).toEqual([{ path: 'opt/tool', bytes: 75, layers: [0], reason: 'overwritten' }]);
  });

  test('a file replaced by a directory, explicit or implied by a path below it, is wasted', () => {
    expect(computeWaste(stack([file('data', 9)], [dir('data'), file('data/x', 1)])).wastedBytes).toBe(9);
    const implied = computeWaste(stack([file('data', 9)], [file('data/x', 1)]));
    expect(implied.top).toEqual([{ path: 'data', bytes: 9, layers: [0], reason: 'overwritten' }]);
    // a whiteout inside it also means the layer has a directory there
    expect(computeWaste(stack([file('data', 9)], [whiteout('data/.wh.x')])).wastedBytes).toBe(9);
  });

  test('directories merge: a later layer adding to a directory wastes nothing', () => {
    const r = computeWaste(
      stack([dir('usr'), file('usr/a', 5)], [dir('usr'), file('usr/b', 6)], [dir('usr/')]),
    );
    expect(r).toMatchObject({ wastedBytes: 0, totalFileBytes: 11, efficiency: 1 });
  });

  test('hard links count 0 bytes, as copies and as what gets replaced', () => {
    const links = computeWaste(
      stack([file('bin/busybox', 1000)], [hardlink('bin/sh'), hardlink('bin/ls', 1000)]),
    );
    expect(links).toMatchObject({ wastedBytes: 0, totalFileBytes: 1000 });
    // a size on a link entry (some tools fill it in) is still not bytes
    expect(computeWaste(stack([hardlink('a', 1000)], [file('a', 5)]))).toMatchObject({
      wastedBytes: 0,
      totalFileBytes: 5,
    });
    // replacing a real file by a link wastes the file
    expect(computeWaste(stack([file('x', 50)], [hardlink('x')])).wastedBytes).toBe(50);
  });

  test('symlinks and other entries carry no bytes', () => {
    const r = computeWaste(
      stack(
        [
          { path: 'l', size: 99, type: 'symlink' },
          { path: 'dev/null', size: 5, type: 'other' },
        ],
        [file('l', 2)],
      ),
    );
    expect(r).toMatchObject({ wastedBytes: 0, totalFileBytes: 2 });
  });

  test("paths are normalised: './etc/x', '/etc/x' and 'etc//x' are one path", () => {
    const r = computeWaste(
      stack([dir('./etc/'), file('./etc/x', 10)], [file('/etc/x', 4)], [file('etc//x', 1)]),
    );
    expect(r.top).toEqual([{ path: 'etc/x', bytes: 14, layers: [0, 1], reason: 'overwritten' }]);
    expect(computeWaste(stack([file('./tmp/t', 8)], [whiteout('/tmp/.wh.t')])).wastedBytes).toBe(8);
  });

  test('whiteout markers are not counted, whatever size they claim', () => {
    const r = computeWaste(stack([file('a', 3)], [{ path: '.wh.a', size: 123, type: 'file' }]));
    expect(r).toMatchObject({ wastedBytes: 3, totalFileBytes: 3, efficiency: 0 });
  });

  test('a path held twice in one layer wastes the first copy', () => {
    const r = computeWaste(stack([file('a', 3), file('a', 4)]));
    expect(r.top).toEqual([{ path: 'a', bytes: 3, layers: [0], reason: 'overwritten' }]);
  });

  test('top holds at most 10, biggest first; wastedBytes counts them all', () => {
    const sizes = Array.from({ length: 12 }, (_, i) => i + 1);
    const r = computeWaste(
      stack(
        sizes.map((s) => file(`f${s}`, s)),
        sizes.map((s) => file(`f${s}`, 1)),
      ),
    );
    expect(r.wastedBytes).toBe(78);
    expect(r.top).toHaveLength(10);
    expect(r.top.map((e) => e.bytes)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
  });

  test("layers are reported by the listings' index, not their position", () => {
    const r = computeWaste([
      { index: 10, files: [file('a', 5)] },
      { index: 20, files: [file('a', 1)] },
    ]);
    expect(r.top[0]?.layers).toEqual([10]);
  });

  // --- properties ---------------------------------------------------------------------------

  /**
   * Reference model, written differently on purpose: the merged filesystem as a flat map,
   * rebuilt layer by layer with prefix scans. What it still shows at the end is what is not
   * wasted, so wasted must equal total − visible.
   */
  function visibleBytes(layers: readonly LayerListing[]): number {
    const norm = (p: string) =>
      p
        .split('/')
        .filter((s) => s && s !== '.')
        .join('/');
    const within = (root: string, p: string) => root === '' || p === root || p.startsWith(`${root}/`);
    let fs = new Map<string, LayerFile['type']>();
    let sizes = new Map<string, number>();
    for (const layer of layers) {
      const lower = fs;
      const next = new Map(fs);
      const nextSizes = new Map(sizes);
      const drop = (root: string, includeRoot: boolean) => {
        for (const k of lower.keys())
          if (within(root, k) && (includeRoot || k !== root)) {
            next.delete(k);
            nextSizes.delete(k);
          }
      };
      const typeBelow = (p: string) =>
        lower.get(p) ?? ([...lower.keys()].some((k) => k.startsWith(`${p}/`)) ? 'dir' : undefined);
      for (const f of layer.files) {
        const p = norm(f.path);
        const segs = p.split('/');
        const base = segs.at(-1)!;
        for (let i = 1; i < segs.length; i++) {
          const a = segs.slice(0, i).join('/');
          const t = typeBelow(a);
          if (t !== undefined && t !== 'dir') drop(a, true);
        }
        const parent = segs.slice(0, -1).join('/');
        if (base === '.wh..wh..opq') drop(parent, false);
        else if (base.startsWith('.wh.')) drop(parent ? `${parent}/${base.slice(4)}` : base.slice(4), true);
        else {
          const t = typeBelow(p);
          if (t !== undefined && !(t === 'dir' && f.type === 'dir')) drop(p, true);
        }
      }
      for (const f of layer.files) {
        const p = norm(f.path);
        if (p.split('/').at(-1)!.startsWith('.wh.')) continue;
        next.set(p, f.type);
        nextSizes.set(p, f.type === 'file' ? f.size : 0);
      }
      fs = next;
      sizes = nextSizes;
    }
    return [...sizes.values()].reduce((a, b) => a + b, 0);
  }

  const seg = fc.constantFrom('a', 'b', 'c');
  const entryArb = fc.oneof(
    fc.record({
      path: fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
      size: fc.nat(1000),
      type: fc.constantFrom<LayerFile['type']>('file', 'file', 'dir', 'symlink', 'link'),
    }),
    fc
      .tuple(fc.array(seg, { maxLength: 2 }), fc.constantFrom('.wh.a', '.wh.b', '.wh.c', '.wh..wh..opq'))
      .map(([d, w]): LayerFile => ({ path: [...d, w].join('/'), size: 0, type: 'file' })),
  );
  /** A layer as Docker writes one: each path once, and no entry below a non-directory of its own. */
  const layerArb = fc
    .uniqueArray(entryArb, { selector: (e) => e.path, maxLength: 8 })
    .map((files) =>
      files.filter((f) => f.type === 'dir' || !files.some((g) => g.path.startsWith(`${f.path}/`))),
    );
  const stackArb = fc
    .array(layerArb, { minLength: 1, maxLength: 5 })
    .map((ls) => ls.map((files, index): LayerListing => ({ index, files })));

  test('property: wasted ≤ total, efficiency in [0, 1], top sorted and ≤ 10, and wasted = total − visible', () => {
    fc.assert(
      fc.property(stackArb, (layers) => {
        const r = computeWaste(layers);
        expect(r.wastedBytes).toBeGreaterThanOrEqual(0);
        expect(r.wastedBytes).toBeLessThanOrEqual(r.totalFileBytes);
        expect(r.efficiency).toBeGreaterThanOrEqual(0);
        expect(r.efficiency).toBeLessThanOrEqual(1);
        expect(r.top.length).toBeLessThanOrEqual(10);
        for (let i = 1; i < r.top.length; i++)
          expect(r.top[i - 1]!.bytes).toBeGreaterThanOrEqual(r.top[i]!.bytes);
        for (const e of r.top) expect(e.bytes).toBeGreaterThan(0);
        expect(r.top.reduce((a, e) => a + e.bytes, 0)).toBeLessThanOrEqual(r.wastedBytes);
        expect(r.wastedBytes).toBe(r.totalFileBytes - visibleBytes(layers));
      }),
      { numRuns: 500 },
    );
  });

  test('property: a stack with no repeated paths and no whiteouts wastes nothing', () => {
    // Files end in '.f' and directories never do, so no file can sit where a directory goes.
    const pathArb = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }), fc.constantFrom('x.f', 'y.f', 'z.f'))
      .map(([d, f]) => [...d, f].join('/'));
    const filesArb = fc.uniqueArray(
      fc.oneof(
        fc.record({ path: pathArb, size: fc.nat(10_000), type: fc.constant<LayerFile['type']>('file') }),
        fc.record({
          path: fc
            .array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 })
            .map((s) => s.join('/')),
          size: fc.constant(0),
          type: fc.constant<LayerFile['type']>('dir'),
        }),
      ),
      { selector: (f) => f.path, maxLength: 30 },
    );
    fc.assert(
      fc.property(filesArb, fc.array(fc.nat(4), { minLength: 30, maxLength: 30 }), (files, where) => {
        const layers = stack(...Array.from({ length: 5 }, (_, l) => files.filter((_, i) => where[i] === l)));
        const r = computeWaste(layers);
        expect(r.wastedBytes).toBe(0);
        expect(r.top).toEqual([]);
        expect(r.efficiency).toBe(1);
        expect(r.totalFileBytes).toBe(files.reduce((a, f) => a + f.size, 0));
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// History → rows

describe('layerRowsFromConfig', () => {
  test('empty layers interleaved between RUNs do not shift sizes, instructions or diffIds', () => {
    const history = [
      { created_by: '/bin/sh -c #(nop) ADD file:0f3c in / ' },
      { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
      { created_by: 'ENV APP_HOME=/app', empty_layer: true },
      { created_by: 'RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit' },
      { created_by: 'LABEL org.opencontainers.image.source=x', empty_layer: true },
      { created_by: 'EXPOSE map[8080/tcp:{}]', empty_layer: true },
      { created_by: 'COPY . /app # buildkit' },
      { created_by: 'WORKDIR /app', empty_layer: true },
      { created_by: 'CMD ["node" "server.js"]', empty_layer: true },
    ];
    expect(
      layerRowsFromConfig(history, ['sha256:d0', 'sha256:d1', 'sha256:d2'], [80_000_000, 30_000_000, 1234]),
    ).toEqual<LayerRow[]>([
      { index: 0, size: 80_000_000, instruction: 'ADD file:0f3c in /', diffId: 'sha256:d0' },
      {
        index: 1,
        size: 30_000_000,
        instruction: 'RUN apt-get update && apt-get install -y curl',
        diffId: 'sha256:d1',
      },
      { index: 2, size: 1234, instruction: 'COPY . /app', diffId: 'sha256:d2' },
    ]);
  });

  test('without sizes every size is 0; a history short of entries leaves the BOTTOM rows blank', () => {
    const rows = layerRowsFromConfig([{ created_by: 'COPY a /a # buildkit' }], ['sha256:base', 'sha256:top']);
    expect(rows).toEqual([
      { index: 0, size: 0, instruction: '', diffId: 'sha256:base' },
      { index: 1, size: 0, instruction: 'COPY a /a', diffId: 'sha256:top' },
    ]);
  });

  test.each([
    ['RUN |2 VERSION=1.2 TARGET=prod /bin/sh -c make build # buildkit', 'RUN make build'],
    ['|1 VERSION=1.2 /bin/sh -c make build', 'RUN make build'],
    ['/bin/sh -c apt-get update', 'RUN apt-get update'],
    ['/bin/sh -c #(nop)  ENV PATH=/usr/bin', 'ENV PATH=/usr/bin'],
    ['/bin/sh -c #(nop) COPY dir:abc in /app ', 'COPY dir:abc in /app'],
    ['RUN /bin/bash -o pipefail -c curl x | sh # buildkit', 'RUN curl x | sh'],
    ['RUN /bin/sh -c set -e;\n\tmake\n  install # buildkit', 'RUN set -e; make install'],
    ['COPY --from=build /out /app # buildkit', 'COPY --from=build /out /app'],
    ['  ENV A=1  ', 'ENV A=1'],
    ['', ''],
  ])('instruction %j reads %j', (createdBy, instruction) => {
    expect(layerRowsFromConfig([{ created_by: createdBy }], ['sha256:x'])[0]?.instruction).toBe(instruction);
  });

  test('instructions are capped at 120 characters', () => {
    const [row] = layerRowsFromConfig(
      [{ created_by: `RUN /bin/sh -c echo ${'x'.repeat(300)}` }],
      ['sha256:x'],
    );
    expect(row?.instruction).toHaveLength(120);
    expect(row?.instruction.startsWith('RUN echo xxx')).toBe(true);
    expect(row?.instruction.endsWith('…')).toBe(true);
  });
});

describe('layerRows (history API, best effort)', () => {
  // What GET /images/{name}/history returns for the image above: NEWEST FIRST, no empty_layer.
  const history: HistoryEntry[] = [
    { Created: 9, CreatedBy: 'CMD ["node" "server.js"]', Size: 0, Comment: 'buildkit.dockerfile.v0' },
    { Created: 8, CreatedBy: 'WORKDIR /app', Size: 0 },
    { Created: 7, CreatedBy: 'COPY . /app # buildkit', Size: 1234 },
    { Created: 6, CreatedBy: 'EXPOSE map[8080/tcp:{}]', Size: 0 },
    { Created: 5, CreatedBy: 'LABEL org.opencontainers.image.source=x', Size: 0 },
    { Created: 4, CreatedBy: 'RUN /bin/sh -c apt-get update # buildkit', Size: 30_000_000 },
    { Created: 3, CreatedBy: 'ENV APP_HOME=/app', Size: 0 },
    { Created: 2, CreatedBy: '/bin/sh -c #(nop)  CMD ["bash"]', Size: 0, Tags: null, Id: '<missing>' },
    { Created: 1, CreatedBy: '/bin/sh -c #(nop) ADD file:0f3c in / ', Size: 80_000_000, Id: '<missing>' },
  ];
  const diffIds = ['sha256:d0', 'sha256:d1', 'sha256:d2'];

  test('aligns bottom → top with the diffIds, skipping metadata-only entries', () => {
    expect(layerRows(history, diffIds)).toEqual<LayerRow[]>([
      { index: 0, size: 80_000_000, instruction: 'ADD file:0f3c in /', diffId: 'sha256:d0' },
      { index: 1, size: 30_000_000, instruction: 'RUN apt-get update', diffId: 'sha256:d1' },
      { index: 2, size: 1234, instruction: 'COPY . /app', diffId: 'sha256:d2' },
    ]);
  });

  test('a layer holding only a directory (Size 0) still gets its diffId, ahead of metadata', () => {
    const withMkdir: HistoryEntry[] = [
      { Created: 4, CreatedBy: 'CMD ["sh"]', Size: 0 },
      { Created: 3, CreatedBy: 'RUN /bin/sh -c mkdir /data # buildkit', Size: 0 },
      { Created: 2, CreatedBy: 'ENV A=1', Size: 0 },
      { Created: 1, CreatedBy: 'COPY app /app # buildkit', Size: 50 },
    ];
    expect(
      layerRows(withMkdir, ['sha256:a', 'sha256:b']).map((r) => [r.instruction, r.size, r.diffId]),
    ).toEqual([
      ['COPY app /app', 50, 'sha256:a'],
      ['RUN mkdir /data', 0, 'sha256:b'],
    ]);
    // and a WORKDIR that created its directory, when nothing likelier is left
    const withWorkdir: HistoryEntry[] = [
      { Created: 3, CreatedBy: 'USER app', Size: 0 },
      { Created: 2, CreatedBy: 'WORKDIR /srv', Size: 0 },
      { Created: 1, CreatedBy: 'COPY app /app # buildkit', Size: 50 },
    ];
    expect(layerRows(withWorkdir, ['sha256:a', 'sha256:b']).map((r) => r.instruction)).toEqual([
      'COPY app /app',
      'WORKDIR /srv',
    ]);
  });

  test('agrees with layerRowsFromConfig on the same image', () => {
    const config = [...history].reverse().map((h) => ({
      created_by: h.CreatedBy,
      ...(h.Size === 0 && { empty_layer: true }),
    }));
    const sizes = [80_000_000, 30_000_000, 1234];
    expect(layerRows(history, diffIds)).toEqual(layerRowsFromConfig(config, diffIds, sizes));
  });

  test('no diffIds, no rows; more diffIds than history pads the bottom', () => {
    expect(layerRows(history, [])).toEqual([]);
    const rows = layerRows([{ Created: 1, CreatedBy: 'COPY a /a', Size: 3 }], ['sha256:x', 'sha256:y']);
    expect(rows).toEqual([
      { index: 0, size: 0, instruction: '', diffId: 'sha256:x' },
      { index: 1, size: 3, instruction: 'COPY a /a', diffId: 'sha256:y' },
    ]);
  });
});

describe('biggestLayers', () => {
  const rows: LayerRow[] = [10, 70, 30, 70, 0, 50, 20].map((size, index) => ({
    index,
    size,
    instruction: `L${index}`,
  }));

  test('the five biggest, biggest first, ties by lower layer; the input is left alone', () => {
    const before = JSON.stringify(rows);
    expect(biggestLayers(rows).map((r) => r.index)).toEqual([1, 3, 5, 2, 6]);
    expect(JSON.stringify(rows)).toBe(before);
  });

  test('n picks how many', () => {
    expect(biggestLayers(rows, 2).map((r) => r.size)).toEqual([70, 70]);
    expect(biggestLayers(rows, 0)).toEqual([]);
    expect(biggestLayers(rows, 100)).toHaveLength(7);
  });
});

// ---------------------------------------------------------------------------------------------
// listSaveLayers

describe('listSaveLayers on real `docker save` output (Docker 20.10, legacy layout)', () => {
  test('tiny:1 — three layers bottom → top, their files and sizes, diffIds and history', async () => {
    const r = await listSaveLayers(streamOf(readFileSync(fixture('legacy-tiny-1.tar'))));
    expect(r.layers).toEqual<LayerListing[]>([
      {
        index: 0,
        diffId: 'sha256:e72ea64ab268ff731298ca3381c70f6e1e49f09ead26cf22602e5c57deeee988',
        files: [{ path: 'a.txt', size: 2, type: 'file' }],
      },
      {
        index: 1,
        diffId: 'sha256:3cce23b4714dbdf62fc24db9a94ccf25bcbb9e24a946c256331a339d79b6c99d',
        files: [{ path: 'b.txt', size: 3, type: 'file' }],
      },
      {
        index: 2,
        diffId: 'sha256:6daec0a2e76da85c2937dc981b39d3c58794624a3fb09868359f14ccd01fb2b1',
        files: [{ path: 'c.txt', size: 4, type: 'file' }],
      },
    ]);
    expect(r.configHistory).toEqual([
      { created_by: 'COPY a.txt /a.txt # buildkit' },
      { created_by: 'COPY b.txt /b.txt # buildkit' },
      { created_by: 'COPY c.txt /c.txt # buildkit' },
      { created_by: 'LABEL fixture=tiny', empty_layer: true },
    ]);
    expect(computeWaste(r.layers)).toEqual({ wastedBytes: 0, totalFileBytes: 9, efficiency: 1, top: [] });
    // the trailing LABEL made no layer; the three COPYs line up with the three diffIds
    const rows = layerRowsFromConfig(
      r.configHistory!,
      r.layers.map((l) => l.diffId!),
      [2, 3, 4],
    );
    expect(rows.map((row) => `${row.index} ${row.instruction} ${row.size}`)).toEqual([
      '0 COPY a.txt /a.txt 2',
      '1 COPY b.txt /b.txt 3',
      '2 COPY c.txt /c.txt 4',
    ]);
  });

  test("tiny:2 — shares the two bottom layers; its top layer's c.txt holds 8 bytes", async () => {
    const r = await listSaveLayers(streamOf(readFileSync(fixture('legacy-tiny-2.tar'))));
    expect(r.layers.map((l) => l.files)).toEqual([
      [{ path: 'a.txt', size: 2, type: 'file' }],
      [{ path: 'b.txt', size: 3, type: 'file' }],
      [{ path: 'c.txt', size: 8, type: 'file' }],
    ]);
    expect(r.layers.map((l) => l.diffId?.slice(7, 19))).toEqual([
      'e72ea64ab268',
      '3cce23b4714d',
      'a19a3a8222c8',
    ]);
  });

  test('property: the listing does not depend on how the stream is chunked', async () => {
    const save = readFileSync(fixture('legacy-tiny-1.tar'));
    const expected = await listSaveLayers(streamOf(save, save.length));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3000 }), async (size) => {
        expect(await listSaveLayers(streamOf(save, size))).toEqual(expected);
      }),
      { numRuns: 25 },
    );
  });
});

describe('listSaveLayers on synthetic saves', () => {
  test('THE key case end to end: 10 MiB written in layer 1, whited out in layer 2 → 10485760 wasted', async () => {
    const size = 10 * 1024 * 1024;
    const base = await tarOf([{ name: 'etc/os-release', body: 'ID=tiny\n' }]);
    const big = await tarOf([
      { name: 'opt/', type: 'directory' },
      {
        name: 'opt/big.bin',
        body: {
          size,
          chunks: function* () {
            for (let i = 0; i < size / (256 * 1024); i++) yield Buffer.alloc(256 * 1024, i);
          },
        },
      },
    ]);
    const rm = await tarOf([
      { name: 'opt/', type: 'directory' },
      { name: 'opt/.wh.big.bin', body: '' },
    ]);
    const r = await listSaveLayers(streamOf(await legacySave([base, big, rm])));
    expect(r.layers.map((l) => l.files)).toEqual([
      [{ path: 'etc/os-release', size: 8, type: 'file' }],
      [
        { path: 'opt', size: 0, type: 'dir' },
        { path: 'opt/big.bin', size: 10485760, type: 'file' },
      ],
      [
        { path: 'opt', size: 0, type: 'dir' },
        { path: 'opt/.wh.big.bin', size: 0, type: 'file' },
      ],
    ]);
    expect(r.layers.map((l) => l.diffId)).toEqual([base, big, rm].map((t) => `sha256:${sha256(t)}`));
    const waste = computeWaste(r.layers);
    expect(waste.wastedBytes).toBe(10485760);
    expect(waste.totalFileBytes).toBe(10485768);
    expect(waste.top).toEqual([{ path: 'opt/big.bin', bytes: 10485760, layers: [1], reason: 'deleted' }]);
  });

  test('with no config, diffIds are the sha256 of each layer tar; configHistory is absent', async () => {
    const tars = [await tarOf([{ name: 'a', body: 'a' }]), await tarOf([{ name: 'b', body: 'bb' }])];
    const r = await listSaveLayers(streamOf(await legacySave(tars, null)));
    expect(r.layers.map((l) => l.diffId)).toEqual(tars.map((t) => `sha256:${sha256(t)}`));
    expect(r).not.toHaveProperty('configHistory');
  });

  test('an empty layer (just the end-of-archive marker) is a layer with no files', async () => {
    const empty = await tarOf([]);
    expect(empty).toEqual(Buffer.alloc(1024));
    const r = await listSaveLayers(
      streamOf(await legacySave([await tarOf([{ name: 'a', body: 'a' }]), empty])),
    );
    expect(r.layers.map((l) => l.files.length)).toEqual([1, 0]);
  });

  test('entry types inside a layer: dirs, symlinks, hard links (0 bytes), long PAX paths', async () => {
    const long = `${'deep/'.repeat(40)}file.txt`;
    const layer = await tarOf([
      { name: './usr/', type: 'directory' },
      { name: './usr/bin/busybox', body: Buffer.alloc(700, 1) },
      { name: './usr/bin/sh', type: 'link', linkname: 'usr/bin/busybox' },
      { name: './bin', type: 'symlink', linkname: 'usr/bin' },
      { name: long, body: 'x' },
    ]);
    const r = await listSaveLayers(streamOf(await legacySave([layer]), 100));
    expect(r.layers[0]?.files).toEqual([
      { path: 'usr', size: 0, type: 'dir' },
      { path: 'usr/bin/busybox', size: 700, type: 'file' },
      { path: 'usr/bin/sh', size: 0, type: 'link' },
      { path: 'bin', size: 0, type: 'symlink' },
      { path: long, size: 1, type: 'file' },
    ]);
    expect(computeWaste(r.layers).totalFileBytes).toBe(701);
  });

  test('a layer saved once and symlinked from another image directory (Docker ≤ 24) resolves', async () => {
    const shared = await tarOf([{ name: 'shared.txt', body: 'shared' }]);
    const top = await tarOf([{ name: 'shared.txt', body: 'newer' }]);
    const save = await tarOf([
      { name: 'aaaa/layer.tar', body: shared },
      { name: 'bbbb/layer.tar', type: 'symlink', linkname: '../aaaa/layer.tar' },
      { name: 'cccc/layer.tar', body: top },
      { name: 'cfg.json', body: JSON.stringify(configOf([shared, shared, top])) },
      {
        name: 'manifest.json',
        body: JSON.stringify([
          { Config: 'cfg.json', Layers: ['aaaa/layer.tar', 'bbbb/layer.tar', 'cccc/layer.tar'] },
        ]),
      },
    ]);
    const r = await listSaveLayers(streamOf(save));
    expect(r.layers.map((l) => l.files.map((f) => `${f.path}:${f.size}`))).toEqual([
      ['shared.txt:6'],
      ['shared.txt:6'],
      ['shared.txt:5'],
    ]);
    expect(computeWaste(r.layers).top).toEqual([
      { path: 'shared.txt', bytes: 12, layers: [0, 1], reason: 'overwritten' },
    ]);
  });

  /** Layers, config and manifest as content-addressed blobs, JSON and tars mixed. */
  async function ociBlobs(layerTars: readonly Buffer[], opts: { gzipFirst?: boolean } = {}) {
    const stored = layerTars.map((t, i) => (i === 0 && opts.gzipFirst ? gzipSync(t) : t));
    const config = Buffer.from(JSON.stringify(configOf(layerTars)));
    const desc = (b: Buffer, mediaType: string) => ({
      mediaType,
      digest: `sha256:${sha256(b)}`,
      size: b.length,
    });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: desc(config, 'application/vnd.oci.image.config.v1+json'),
        layers: stored.map((b, i) =>
          desc(b, `application/vnd.oci.image.layer.v1.tar${i === 0 && opts.gzipFirst ? '+gzip' : ''}`),
        ),
      }),
    );
    // a buildx attestation: a manifest whose single "layer" is JSON, not a tar
    const statement = Buffer.from(
      JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [] }),
    );
    const attestation = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: desc(Buffer.from('{}'), 'application/vnd.oci.image.config.v1+json'),
        layers: [desc(statement, 'application/vnd.in-toto+json')],
      }),
    );
    const blobs = [...stored, config, manifest, statement, attestation, Buffer.from('{}')];
    const entries: TarEntry[] = blobs
      .map((b) => ({ name: `blobs/sha256/${sha256(b)}`, body: b }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)); // hash order, like the daemon writes them
    return { entries, manifest, attestation, config, desc, stored };
  }

  test('OCI layout as Docker ≥ 25 saves it: blobs/sha256/<hex>, JSON blobs skipped, a gzip layer read', async () => {
    const tars = [
      await tarOf([
        { name: 'app/', type: 'directory' },
        { name: 'app/server.js', body: 'x'.repeat(1000) },
      ]),
      await tarOf([{ name: 'app/server.js', body: 'y'.repeat(10) }]),
    ];
    const { entries, config, manifest, desc, stored } = await ociBlobs(tars, { gzipFirst: true });
    const save = await tarOf([
      { name: 'blobs/', type: 'directory' },
      { name: 'blobs/sha256/', type: 'directory' },
      ...entries,
      {
        name: 'index.json',
        body: JSON.stringify({
          schemaVersion: 2,
          manifests: [desc(manifest, 'application/vnd.oci.image.manifest.v1+json')],
        }),
      },
      {
        name: 'manifest.json',
        body: JSON.stringify([
          {
            Config: `blobs/sha256/${sha256(config)}`,
            RepoTags: ['app:1'],
            Layers: stored.map((b) => `blobs/sha256/${sha256(b)}`),
          },
        ]),
      },
      { name: 'oci-layout', body: '{"imageLayoutVersion": "1.0.0"}' },
    ]);
    const r = await listSaveLayers(streamOf(save, 4096));
    expect(r.layers).toEqual<LayerListing[]>([
      {
        index: 0,
        diffId: `sha256:${sha256(tars[0]!)}`,
        files: [
          { path: 'app', size: 0, type: 'dir' },
          { path: 'app/server.js', size: 1000, type: 'file' },
        ],
      },
      {
        index: 1,
        diffId: `sha256:${sha256(tars[1]!)}`,
        files: [{ path: 'app/server.js', size: 10, type: 'file' }],
      },
    ]);
    expect(r.configHistory).toHaveLength(2);
    expect(computeWaste(r.layers)).toMatchObject({ wastedBytes: 1000, efficiency: 1 - 1000 / 1010 });
  });

  test('pure OCI layout (no manifest.json): index → nested index → the first manifest whose layers are tars', async () => {
    const tars = [await tarOf([{ name: 'one', body: '1' }]), await tarOf([{ name: 'two', body: '22' }])];
    const { entries, manifest, attestation, desc } = await ociBlobs(tars, { gzipFirst: true });
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          desc(attestation, 'application/vnd.oci.image.manifest.v1+json'), // listed first on purpose
          desc(manifest, 'application/vnd.oci.image.manifest.v1+json'),
        ],
      }),
    );
    const save = await tarOf([
      { name: 'oci-layout', body: '{"imageLayoutVersion": "1.0.0"}' },
      {
        name: 'index.json',
        body: JSON.stringify({ manifests: [desc(nested, 'application/vnd.oci.image.index.v1+json')] }),
      },
      ...entries,
      { name: `blobs/sha256/${sha256(nested)}`, body: nested },
    ]);
    const r = await listSaveLayers(streamOf(save, 777));
    expect(r.layers.map((l) => [l.index, l.files.map((f) => f.path), l.diffId])).toEqual([
      [0, ['one'], `sha256:${sha256(tars[0]!)}`],
      [1, ['two'], `sha256:${sha256(tars[1]!)}`],
    ]);
  });

  test('not an archive, no manifest, a missing layer, a corrupt layer: each rejects and says why', async () => {
    await expect(
      listSaveLayers(streamOf(Buffer.from('this is not a tar at all'.repeat(100)))),
    ).rejects.toThrow();
    await expect(
      listSaveLayers(streamOf(await tarOf([{ name: 'x/layer.tar', body: await tarOf([]) }]))),
    ).rejects.toThrow(/no manifest\.json or index\.json/);
    const manifestOnly = await tarOf([
      { name: 'manifest.json', body: JSON.stringify([{ Layers: ['gone/layer.tar'] }]) },
    ]);
    await expect(listSaveLayers(streamOf(manifestOnly))).rejects.toThrow(
      /gone\/layer\.tar.*not in the archive/,
    );
    // a layer that starts like a tar but is cut short in the middle of a file
    const cut = (await tarOf([{ name: 'big', body: Buffer.alloc(5000) }])).subarray(0, 2048);
    const corrupt = await tarOf([
      { name: 'bad/layer.tar', body: cut },
      { name: 'good/layer.tar', body: await tarOf([{ name: 'ok', body: 'ok' }]) },
      { name: 'manifest.json', body: JSON.stringify([{ Layers: ['good/layer.tar', 'bad/layer.tar'] }]) },
    ]);
    await expect(listSaveLayers(streamOf(corrupt))).rejects.toThrow(
      /bad\/layer\.tar named by the manifest could not be read: Unexpected end of data/,
    );
    // …and the same corrupt blob is harmless when the manifest does not need it
    const unused = await tarOf([
      { name: 'bad/layer.tar', body: cut },
      { name: 'good/layer.tar', body: await tarOf([{ name: 'ok', body: 'ok' }]) },
      { name: 'manifest.json', body: JSON.stringify([{ Layers: ['good/layer.tar'] }]) },
    ]);
    expect((await listSaveLayers(streamOf(unused))).layers[0]?.files).toEqual([
      { path: 'ok', size: 2, type: 'file' },
    ]);
  });

  test('a failing input stream rejects with its error', async () => {
    const good = await legacySave([await tarOf([{ name: 'a', body: 'a' }])]);
    const failing = Readable.from(
      (async function* () {
        yield good.subarray(0, 1536);
        throw new Error('connection reset');
      })(),
    );
    await expect(listSaveLayers(failing)).rejects.toThrow(/connection reset/);
  });

  test('memory stays bounded: a 128 MiB layer streams through without being held', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const chunk = MiB;
    const size = 128 * MiB;
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    // Fresh buffers each time: if anything along the way kept them, arrayBuffers would climb.
    const body: Chunked = {
      size,
      chunks: async function* () {
        for (let i = 0; i < size / chunk; i++) {
          if (i % 8 === 0) {
            gc();
            peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
          }
          yield Buffer.alloc(chunk, i & 0xff);
        }
      },
    };
    // The layer tar is itself produced as a stream, so the test holds no copy either.
    const innerSize = 512 + size + 1024;
    const outer = pack();
    const save = Readable.from(outer);
    const listed = listSaveLayers(save);
    const inner = pack();
    const innerDone = addEntry(inner, { name: 'huge.bin', body }).then(() => inner.finalize());
    await Promise.all([
      innerDone,
      addEntry(outer, {
        name: 'l/layer.tar',
        body: { size: innerSize, chunks: () => inner as AsyncIterable<Buffer> },
      }),
    ]);
    await addEntry(outer, { name: 'manifest.json', body: JSON.stringify([{ Layers: ['l/layer.tar'] }]) });
    outer.finalize();
    const r = await listed;
    expect(r.layers[0]?.files).toEqual([{ path: 'huge.bin', size, type: 'file' }]);
    expect(peak).toBeLessThan(32 * MiB);
  }, 60_000);
});
