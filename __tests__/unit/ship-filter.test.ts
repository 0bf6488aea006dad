import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { filterSave, type FilterResult } from '../../src/ship/filter.js';
import { chainIds, hostChainIds, planLayers } from '../../src/ship/plan.js';

const FIXTURES = new URL('../fixtures/save/', import.meta.url);
const TINY1_TAR = readFileSync(new URL('legacy-tiny-1.tar', FIXTURES));
const TINY2_TAR = readFileSync(new URL('legacy-tiny-2.tar', FIXTURES));
const TINY1 = [
  'sha256:e72ea64ab268ff731298ca3381c70f6e1e49f09ead26cf22602e5c57deeee988',
  'sha256:3cce23b4714dbdf62fc24db9a94ccf25bcbb9e24a946c256331a339d79b6c99d',
  'sha256:6daec0a2e76da85c2937dc981b39d3c58794624a3fb09868359f14ccd01fb2b1',
];
const TINY2 = [
  TINY1[0] as string,
  TINY1[1] as string,
  'sha256:a19a3a8222c86367f966d79cf379f203eab8f3234cb89bdbd86f1b474e820a9b',
];

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const digest = (data: Buffer | string) => `sha256:${sha256(data)}`;

interface Entry {
  name: string;
  type: string;
  size: number;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  linkname: string | null;
  body: Buffer;
}

/** Every entry of a tar, headers normalized to the fields a loader reads. */
async function entriesOf(tar: Buffer): Promise<Entry[]> {
  const out: Entry[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const source of ex) {
      const chunks: Buffer[] = [];
      for await (const c of source) chunks.push(c as Buffer);
      const h = source.header;
      out.push({
        name: h.name,
        type: h.type,
        size: h.size,
        mode: h.mode & 0o7777,
        mtime: h.mtime.getTime(),
        uid: h.uid,
        gid: h.gid,
        uname: h.uname,
        gname: h.gname,
        linkname: h.linkname || null,
        body: Buffer.concat(chunks),
      });
    }
  })();
  ex.end(tar);
  await done;
  return out;
}

type Spec = { name: string; body?: Buffer | string; type?: 'directory' | 'symlink'; linkname?: string };

/** A tar built with tar-stream pack, entries in the given order. */
async function tarOf(specs: Spec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const ended = new Promise<void>((res) => p.on('end', () => res()));
  for (const s of specs) {
    const header = { name: s.name, mtime: new Date(0), ...(s.type ? { type: s.type } : {}) };
    if (s.linkname) Object.assign(header, { linkname: s.linkname });
    await new Promise<void>((res, rej) => {
      if (s.body === undefined) p.entry(header, (err) => (err ? rej(err) : res())).end(null);
      else p.entry(header, s.body, (err) => (err ? rej(err) : res()));
    });
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Runs a tar through filterSave and returns the filtered bytes and the result. */
async function run(input: Buffer, diffIds: readonly string[], skip: Iterable<number>) {
  const { stream, result } = filterSave({ diffIds, skip: new Set(skip) });
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([input]), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) chunks.push(c);
  });
  return { out: Buffer.concat(chunks), result: await result };
}

/** GNU tar, an independent reader, accepts the archive and lists these names. */
function gnuTarList(tar: Buffer): string[] {
  const r = spawnSync('tar', ['-tf', '-'], { input: tar });
  expect(r.status).toBe(0);
  return r.stdout.toString().trim().split('\n');
}

const skipOf = (diffIds: readonly string[], host: Set<string>) =>
  planLayers(diffIds, host)
    .layers.filter((l) => !l.send)
    .map((l) => l.index);

describe('real Docker 20.10 saves (legacy layout)', () => {
  test('sanity: each layer.tar hashes to the diffId at its manifest position', async () => {
    for (const [tar, diffIds] of [
      [TINY1_TAR, TINY1],
      [TINY2_TAR, TINY2],
    ] as const) {
      const entries = await entriesOf(tar);
      const byName = new Map(entries.map((e) => [e.name, e.body]));
      const [manifest] = JSON.parse(String(byName.get('manifest.json'))) as [{ Layers: string[] }];
      expect(manifest.Layers.map((l) => digest(byName.get(l) as Buffer))).toEqual(diffIds);
      expect(entries.at(-2)?.name).toBe('manifest.json'); // the manifest comes too late to decide with
      expect(entries.at(-1)?.name).toBe('repositories');
    }
  });

  test('tiny:2 against a host with tiny:1: layers 0 and 1 are dropped, 2 and everything else kept', async () => {
    const skip = skipOf(TINY2, hostChainIds([{ layers: TINY1 }]));
    expect(skip).toEqual([0, 1]);
    const { out, result } = await run(TINY2_TAR, TINY2, skip);

    const input = await entriesOf(TINY2_TAR);
    const manifest = JSON.parse(String(input.find((e) => e.name === 'manifest.json')?.body)) as [
      { Layers: string[] },
    ];
    const [l0, l1, l2] = manifest[0].Layers;
    const expected = input.filter((e) => e.name !== l0 && e.name !== l1);
    expect(await entriesOf(out)).toEqual(expected); // kept entries: same headers, same bytes
    expect(expected.map((e) => e.name)).toContain(l2);
    expect(gnuTarList(out)).toEqual(expected.map((e) => e.name));

    expect(result).toEqual<FilterResult>({
      layout: 'legacy',
      entries: input.length - 2,
      droppedLayers: [0, 1],
      droppedBytes: 4096,
      keptLayerBytes: 2048,
      unmatchedLayerFiles: [],
    });
  });

  test('a full plan drops nothing: the output entries equal the input', async () => {
    const skip = skipOf(TINY2, new Set());
    expect(skip).toEqual([]);
    const { out, result } = await run(TINY2_TAR, TINY2, skip);
    expect(await entriesOf(out)).toEqual(await entriesOf(TINY2_TAR));
    expect(result).toMatchObject({ layout: 'legacy', entries: 15, droppedLayers: [], droppedBytes: 0 });
    expect(result.keptLayerBytes).toBe(3 * 2048);
  });

  test('every directory of tiny:1 maps to its layer, the top one included', async () => {
    const { out, result } = await run(TINY1_TAR, TINY1, [0, 1, 2]);
    expect(result.droppedLayers).toEqual([0, 1, 2]);
    expect(result.unmatchedLayerFiles).toEqual([]);
    expect((await entriesOf(out)).filter((e) => e.name.endsWith('/layer.tar'))).toEqual([]);
  });

  test('with the wrong diffIds nothing maps, so every layer file is sent and listed', async () => {
    // tiny:1's diffIds for tiny:2's save: the lower two still map (same chains), the top one cannot.
    const { out, result } = await run(TINY2_TAR, TINY1, [0, 1, 2]);
    expect(result.droppedLayers).toEqual([0, 1]);
    expect(result.unmatchedLayerFiles).toEqual([
      'd42b99587e5e6a9e4be7457490454098c7bf061a919fc20aacbda784d21a34d9/layer.tar',
    ]);
    expect((await entriesOf(out)).filter((e) => e.name.endsWith('/layer.tar')).map((e) => e.name)).toEqual(
      result.unmatchedLayerFiles,
    );
  });
});

describe('OCI layout (Docker >= 25)', () => {
  const A = Buffer.from('layer A');
  const B = Buffer.from('layer B');
  const E = Buffer.alloc(1024); // the empty layer: it repeats wherever an image has one
  const gz = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]); // a compressed blob
  const config = JSON.stringify({
    rootfs: { type: 'layers', diff_ids: [digest(A), digest(E), digest(B), digest(E)] },
  });
  const manifestBlob = JSON.stringify({ schemaVersion: 2, config: { digest: digest(config) } });
  const blob = (b: Buffer | string) => `blobs/sha256/${sha256(b)}`;
  const diffIds = [digest(A), digest(E), digest(B), digest(E)];
  const specs: Spec[] = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    ...[A, B, E, config, manifestBlob, gz]
      .map((b) => ({ name: blob(b), body: b }))
      .sort((x, y) => (x.name < y.name ? -1 : 1)),
    { name: 'index.json', body: JSON.stringify({ manifests: [{ digest: digest(manifestBlob) }] }) },
    { name: 'manifest.json', body: JSON.stringify([{ Config: blob(config), Layers: diffIds.map(blob) }]) },
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'repositories', body: '{}' },
  ];

  test('a blob shared by a skipped and a kept position is kept; metadata always kept', async () => {
    const tar = await tarOf(specs);
    const { out, result } = await run(tar, diffIds, [0, 1]);
    const input = await entriesOf(tar);
    expect(await entriesOf(out)).toEqual(input.filter((e) => e.name !== blob(A)));
    expect(result).toEqual<FilterResult>({
      layout: 'oci',
      entries: input.length - 1,
      droppedLayers: [0],
      droppedBytes: A.length,
      keptLayerBytes: B.length + E.length + gz.length,
      unmatchedLayerFiles: [blob(gz)], // not a diffId and not JSON: a layer we cannot place
    });
  });

  test('a shared blob goes once every position holding it is skipped', async () => {
    const tar = await tarOf(specs);
    const { out, result } = await run(tar, diffIds, [0, 1, 3]);
    const names = (await entriesOf(out)).map((e) => e.name);
    expect(names).not.toContain(blob(E));
    expect(names).not.toContain(blob(A));
    expect(names).toContain(blob(B));
    expect(result.droppedLayers).toEqual([0, 1, 3]);
    expect(result.droppedBytes).toBe(A.length + E.length);
  });
});

describe('legacy layout, synthetic', () => {
  const L0 = Buffer.from('lower layer');
  const L1 = Buffer.from('top layer');
  const diffIds = [digest(L0), digest(L1)];
  const [c0, c1] = chainIds(diffIds) as [string, string];
  // Hand-written Go json.Marshal output of the hashed maps: keys sorted, compact, <>& as \u003c \u003e \u0026,
  // nested key order as written (the integer-like "10" stays after "b").
  const cc = '{"Cmd":null,"Labels":{"b":"1","10":"2"}}';
  const id0 = sha256(`{"container_config":${cc},"created":"1970-01-01T00:00:00Z","layer_id":"${c0}"}`);
  const cfg = '{"Cmd":["/bin/sh","-c","make \\u0026\\u0026 echo \\u003cok\\u003e"]}';
  const hashed1 = `{"architecture":"amd64","config":${cfg},"container_config":${cc},"created":"2026-01-02T03:04:05Z","layer_id":"${c1}","os":"linux","parent":"sha256:${id0}"}`;
  const id1 = sha256(hashed1);
  const json0 = `{"id":"${id0}","created":"1970-01-01T00:00:00Z","container_config":${cc},"os":"linux"}`;
  const json1 = (config: string) =>
    `{"id":"${id1}","parent":"${id0}","created":"2026-01-02T03:04:05Z","container_config":${cc},"config":${config},"architecture":"amd64","os":"linux"}`;

  const legacyTar = (top: string, extra: Spec[] = []) =>
    tarOf(
      [
        ...[
          { dir: id0, json: json0, layer: L0 },
          { dir: id1, json: top, layer: L1 },
        ].flatMap(({ dir, json, layer }) => [
          { name: `${dir}/`, type: 'directory' as const },
          { name: `${dir}/VERSION`, body: '1.0' },
          { name: `${dir}/json`, body: json },
          { name: `${dir}/layer.tar`, body: layer },
        ]),
        ...extra,
      ]
        .sort((x, y) => (x.name < y.name ? -1 : 1))
        .concat([
          { name: 'manifest.json', body: '[]' },
          { name: 'repositories', body: '{}' },
        ]),
    );

  test('the test ids depend on the Go escaping (so the next test can fail)', () => {
    expect(sha256(hashed1.replace('\\u0026\\u0026', '&&'))).not.toBe(id1);
  });

  test('Go escaping of && and <>: a top layer whose config has them maps, whether the file escapes them or not', async () => {
    for (const config of [cfg, '{"Cmd":["/bin/sh","-c","make && echo <ok>"]}']) {
      const { result } = await run(await legacyTar(json1(config)), diffIds, [0, 1]);
      expect(result).toMatchObject({ layout: 'legacy', droppedLayers: [0, 1], unmatchedLayerFiles: [] });
    }
  });

  test('a json that matches no layer leaves its layer file in, listed as unmatched', async () => {
    const wrong = json1(cfg).replace('amd64', 'arm64');
    const stray = 'a'.repeat(64);
    const tar = await legacyTar(wrong, [{ name: `${stray}/layer.tar`, body: 'no json for me' }]);
    const { out, result } = await run(tar, diffIds, [0, 1]);
    expect(result.droppedLayers).toEqual([0]);
    expect(result.unmatchedLayerFiles).toEqual([`${stray}/layer.tar`, `${id1}/layer.tar`]);
    const names = (await entriesOf(out)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining([`${stray}/layer.tar`, `${id1}/layer.tar`, `${id1}/json`]));
    expect(names).not.toContain(`${id0}/layer.tar`);
  });

  test('an image repeating a diffId: the symlinked copy and its target go or stay together', async () => {
    // Docker <= 24 saves a repeated diffId once and links the later directory's layer.tar to it.
    const ids = [digest(L0), digest(L1), digest(L0)];
    const chains = chainIds(ids);
    const dir = (i: number, parent?: string) => {
      const id = sha256(
        `{"container_config":${cc},"created":"1970-01-01T00:00:00Z","layer_id":"${chains[i]}"${parent ? `,"parent":"sha256:${parent}"` : ''}}`,
      );
      const json = `{"id":"${id}"${parent ? `,"parent":"${parent}"` : ''},"created":"1970-01-01T00:00:00Z","container_config":${cc},"os":"linux"}`;
      return { id, json };
    };
    const d0 = dir(0);
    const d1 = dir(1, d0.id);
    const d2 = dir(2, d1.id);
    const tar = await tarOf(
      [
        { name: `${d0.id}/json`, body: d0.json },
        { name: `${d0.id}/layer.tar`, body: L0 },
        { name: `${d1.id}/json`, body: d1.json },
        { name: `${d1.id}/layer.tar`, body: L1 },
        { name: `${d2.id}/json`, body: d2.json },
        { name: `${d2.id}/layer.tar`, type: 'symlink' as const, linkname: `../${d0.id}/layer.tar` },
      ].sort((x, y) => (x.name < y.name ? -1 : 1)),
    );
    const kept = await run(tar, ids, [0, 1]); // position 2 still needs L0's file
    expect(kept.result.droppedLayers).toEqual([1]);
    const names = (await entriesOf(kept.out)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining([`${d0.id}/layer.tar`, `${d2.id}/layer.tar`]));
    const gone = await run(tar, ids, [0, 1, 2]);
    expect(gone.result.droppedLayers).toEqual([0, 1, 2]);
    expect(gone.result.droppedBytes).toBe(L0.length + L1.length);
  });

  test('a tar of neither layout passes through untouched', async () => {
    const tar = await tarOf([
      { name: 'a/', type: 'directory' },
      { name: 'a/layer.tar', body: 'x' },
      { name: 'b.txt', body: 'y' },
    ]);
    const { out, result } = await run(tar, diffIds, [0, 1]);
    expect(await entriesOf(out)).toEqual(await entriesOf(tar));
    expect(result).toEqual({
      layout: 'unknown',
      entries: 3,
      droppedLayers: [],
      droppedBytes: 0,
      keptLayerBytes: 0,
      unmatchedLayerFiles: [],
    });
  });
});

describe('streaming', () => {
  const MB = 1024 * 1024;
  // Large enough that RSS noise from the garbage collector (~20 MB under load) stays far below SIZE / 4.
  const SIZE = 256 * MB;
  const CHUNK = 64 * 1024;
  // Fresh chunks each time: a buffering bug must cost memory, not share one buffer.
  function* layerChunks(): Generator<Buffer> {
    for (let i = 0; i < SIZE / CHUNK; i++) {
      const c = Buffer.allocUnsafe(CHUNK);
      c.fill(i & 0xff);
      c.writeUInt32BE(i, 0);
      yield c;
    }
  }
  const h = createHash('sha256');
  for (const c of layerChunks()) h.update(c);
  const bigDigest = `sha256:${h.digest('hex')}`;

  /** An OCI save whose only layer is the 256 MB blob, produced lazily; counts the layer bytes produced. */
  function bigSave(counter: { produced: number }): Readable {
    const p = pack();
    void (async () => {
      const sink = p.entry({ name: `blobs/sha256/${bigDigest.slice(7)}`, size: SIZE, mtime: new Date(0) });
      for (const c of layerChunks()) {
        counter.produced += c.length;
        if (!sink.write(c)) await new Promise<void>((res) => sink.once('drain', () => res()));
      }
      sink.end(null);
      p.entry({ name: 'index.json', mtime: new Date(0) }, '{}');
      p.finalize();
    })();
    return Readable.from(p as AsyncIterable<Buffer>, { highWaterMark: 1 });
  }

  test('a 256 MB layer streams through with bounded buffering and memory', async () => {
    const counter = { produced: 0 };
    const { stream, result } = filterSave({ diffIds: [bigDigest], skip: new Set() });
    let consumed = 0;
    let maxInFlight = 0;
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    const ex = extract();
    const outDigest = createHash('sha256');
    ex.on('entry', (header, source, next) => {
      source.on('data', (c) => header.size === SIZE && outDigest.update(c as Buffer));
      source.on('end', () => next());
    });
    const slowSink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        consumed += chunk.length;
        maxInFlight = Math.max(maxInFlight, counter.produced - consumed);
        if (consumed % (4 * MB) < chunk.length) maxRss = Math.max(maxRss, process.memoryUsage().rss);
        ex.write(chunk);
        setImmediate(cb);
      },
    });
    // Hold the reader for a while first: the producer must stall, not fill memory.
    const input = bigSave(counter);
    const held = new Promise((res) => setTimeout(res, 300));
    const flowing = pipeline(
      input,
      stream,
      async function* (source: AsyncIterable<Buffer>) {
        await held;
        yield* source;
      },
      slowSink,
    );
    await held;
    expect(counter.produced).toBeLessThan(2 * MB); // measured: ~320 KB
    await flowing;
    ex.end(null);
    await new Promise<void>((res) => ex.on('finish', () => res()));
    expect(`sha256:${outDigest.digest('hex')}`).toBe(bigDigest);
    expect(maxInFlight).toBeLessThan(2 * MB); // measured: ~256 KB
    expect(maxRss - rss0).toBeLessThan(SIZE / 4); // measured: ~4 MB
    expect(await result).toMatchObject({ layout: 'oci', keptLayerBytes: SIZE, droppedLayers: [] });
  }, 60000);

  test('a dropped 256 MB layer is drained and left out', async () => {
    const counter = { produced: 0 };
    const { stream, result } = filterSave({ diffIds: [bigDigest], skip: new Set([0]) });
    const chunks: Buffer[] = [];
    await pipeline(bigSave(counter), stream, async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) chunks.push(c);
    });
    expect((await entriesOf(Buffer.concat(chunks))).map((e) => e.name)).toEqual(['index.json']);
    expect(await result).toMatchObject({ droppedLayers: [0], droppedBytes: SIZE, entries: 1 });
  }, 60000);
});

describe('errors', () => {
  // A lost error hangs the pipeline: fail fast instead of at the global timeout.
  const quick = (name: string, fn: () => Promise<void>) => test(name, fn, 10000);
  quick('a truncated tar rejects result and errors the stream', async () => {
    const { stream, result } = filterSave({ diffIds: TINY2, skip: new Set([0, 1]) });
    const sink = (async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source);
    }) as (s: AsyncIterable<Buffer>) => Promise<void>;
    await expect(pipeline(Readable.from([TINY2_TAR.subarray(0, 5000)]), stream, sink)).rejects.toThrow(
      /Unexpected end of data/,
    );
    await expect(result).rejects.toThrow(/Unexpected end of data/);
    expect(stream.destroyed).toBe(true);
  });

  quick('a garbage header rejects result', async () => {
    const bad = Buffer.from(TINY2_TAR);
    bad.fill(0x41, 512 * 3, 512 * 3 + 200); // overwrite an entry header with junk
    const { stream, result } = filterSave({ diffIds: TINY2, skip: new Set() });
    const drained = pipeline(Readable.from([bad]), stream, async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source);
    });
    await expect(drained).rejects.toThrow();
    await expect(result).rejects.toThrow();
  });

  quick('destroying the stream midway rejects result', async () => {
    const { stream, result } = filterSave({ diffIds: TINY2, skip: new Set() });
    const errored = new Promise((res) => stream.on('error', res));
    stream.write(TINY2_TAR.subarray(0, 4096));
    stream.destroy(new Error('consumer went away'));
    await expect(result).rejects.toThrow('consumer went away');
    expect(await errored).toHaveProperty('message', 'consumer went away');
  });
});
