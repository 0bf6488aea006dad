// imageReport over real `docker save` output (Docker 20.10 fixtures) and synthetic saves built with
// tar-stream: layer rows and sizes, wasted bytes, the size change against the serving image, and
// the Markdown a person reads in the job summary.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { formatChange, imageReport, type ImageReportInput } from '../../src/report/image.js';
import { bigFile, configOf, legacySave, streamOf, tarOf } from './helpers/save-fixture.js';

const fixture = (name: string) => new URL(`../fixtures/save/${name}`, import.meta.url);
const saveOf = (name: string) => () => Promise.resolve(createReadStream(fixture(name)));
const MiB = 1024 * 1024;

const TINY1 = { ref: 'tiny:1', id: 'sha256:bede61abc8e4', size: 9 };
const TINY2 = { ref: 'tiny:2', id: 'sha256:c28fc79ea1f9', size: 13 };

/** The mermaid block of a report, its x-axis labels and bar values. */
function chart(markdown: string) {
  const block = /```mermaid\n([\s\S]*?)\n```/.exec(markdown)?.[1];
  if (block === undefined) throw new Error(`no mermaid block in:\n${markdown}`);
  const list = (key: string) => {
    const m = new RegExp(`^  ${key} \\[(.*)\\]$`, 'm').exec(block);
    if (!m) throw new Error(`no ${key} in:\n${block}`);
    return m[1]!.split(', ');
  };
  return { block, labels: list('x-axis').map((l) => JSON.parse(l) as string), bars: list('bar').map(Number) };
}

/** The layer table's rows as [layer, size, instruction] cells. */
function layerTable(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const at = lines.indexOf('| layer | size | instruction |');
  if (at < 0) throw new Error(`no layer table in:\n${markdown}`);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(2, -2).split(' | '));
  }
  return rows;
}

/** A synthetic save: os-release, a 10 MiB file, then a layer that deletes it, then a config-only step. */
async function wastefulSave(): Promise<Buffer> {
  const base = await tarOf([{ name: 'etc/os-release', body: 'ID=tiny\n' }]);
  const big = await tarOf([
    { name: 'opt/', type: 'directory' },
    { name: 'opt/big.bin', body: bigFile(10 * MiB) },
  ]);
  const rm = await tarOf([
    { name: 'opt/', type: 'directory' },
    { name: 'opt/.wh.big.bin', body: '' },
  ]);
  const tars = [base, big, rm];
  return legacySave(
    tars,
    configOf(tars, [
      { created_by: '/bin/sh -c #(nop) ADD file:0123abcd in / ' },
      { created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created_by: 'RUN /bin/sh -c head -c 10485760 /dev/urandom > /opt/big.bin # buildkit' },
      { created_by: 'RUN /bin/sh -c rm /opt/big.bin # buildkit' },
      { created_by: 'LABEL x=y', empty_layer: true },
    ]),
  );
}

describe('imageReport on real docker save output', () => {
  test('tiny:2 against tiny:1 serving: rows, sizes from the listings, +4 B (+44.4%)', async () => {
    const r = await imageReport({ ...TINY2, save: saveOf('legacy-tiny-2.tar'), serving: TINY1 });
    expect(r.rows).toEqual([
      {
        index: 0,
        size: 2,
        instruction: 'COPY a.txt /a.txt',
        diffId: expect.stringMatching(/^sha256:e72ea64ab268/),
      },
      {
        index: 1,
        size: 3,
        instruction: 'COPY b.txt /b.txt',
        diffId: expect.stringMatching(/^sha256:3cce23b4714d/),
      },
      {
        index: 2,
        size: 8,
        instruction: 'COPY c.txt /c.txt',
        diffId: expect.stringMatching(/^sha256:a19a3a8222c8/),
      },
    ]);
    expect(r.biggest.map((b) => b.index)).toEqual([2, 1, 0]);
    expect(r.totalSize).toBe(13);
    expect(r.sizeChange).toBe(4);
    expect(r.waste).toEqual({ wastedBytes: 0, totalFileBytes: 13, efficiency: 1, top: [] });
    const first = r.markdown.split('\n')[0];
    expect(first).toBe(
      '`tiny:2`: **13 B** in 3 layer(s) · +4 B (+44.4%) vs `tiny:1` (serving) · wasted 0 B (0 bytes) · efficiency 100.0%',
    );
    // no waste: no wasted-files table
    expect(r.markdown).not.toContain('| path | bytes | reason |');
  });

  test('tiny:1 against tiny:2 serving: the change is negative, -4 B (-30.8%)', async () => {
    const r = await imageReport({ ...TINY1, save: saveOf('legacy-tiny-1.tar'), serving: TINY2 });
    expect(r.sizeChange).toBe(-4);
    expect(r.markdown).toContain('-4 B (-30.8%) vs `tiny:2` (serving)');
    expect(r.rows.map((row) => row.size)).toEqual([2, 3, 4]);
  });

  test('a first deploy: no serving image, no size change', async () => {
    const r = await imageReport({ ...TINY1, save: saveOf('legacy-tiny-1.tar') });
    expect(r).not.toHaveProperty('sizeChange');
    expect(r.markdown.split('\n')[0]).toContain('no image serving yet');
    expect(r.markdown).not.toContain('(serving)');
  });

  test('redeploying the serving image itself says so', async () => {
    const r = await imageReport({ ...TINY1, save: saveOf('legacy-tiny-1.tar'), serving: TINY1 });
    expect(r.sizeChange).toBe(0);
    expect(r.markdown).toContain('same image as `tiny:1` (serving)');
  });

  test('the layer table and the chart: one row and one bar per layer, sizes in MB', async () => {
    const r = await imageReport({ ...TINY1, save: saveOf('legacy-tiny-1.tar'), serving: TINY2 });
    expect(layerTable(r.markdown)).toEqual([
      ['0', '**2 B**', '`COPY a.txt /a.txt`'],
      ['1', '**3 B**', '`COPY b.txt /b.txt`'],
      ['2', '**4 B**', '`COPY c.txt /c.txt`'],
    ]);
    const c = chart(r.markdown);
    expect(c.block).toContain('xychart-beta');
    expect(c.block).toContain('title "Layer sizes (MB)"');
    expect(c.block).toContain('y-axis "MB"');
    expect(c.labels).toEqual(['0', '1', '2']);
    expect(c.bars).toEqual([0, 0, 0]);
  });

  test("when the given size is 0 (unknown) the total is the layers' sum", async () => {
    const r = await imageReport({ ...TINY1, size: 0, save: saveOf('legacy-tiny-1.tar') });
    expect(r.totalSize).toBe(9);
  });
});

describe('imageReport on synthetic saves', () => {
  test('a 10 MiB file deleted by a later layer: exactly 10485760 wasted bytes, in the line and the table', async () => {
    const save = await wastefulSave();
    const size = 10 * MiB + 8;
    const serving = { ref: 'demo:20261130120000-abcdef0', id: 'sha256:old', size: 5_000_000 };
    const r = await imageReport({
      ref: 'demo:20261201093005-abcdef0',
      id: 'sha256:new',
      size,
      save: () => Promise.resolve(streamOf(save)),
      serving,
    });
    expect(r.waste.wastedBytes).toBe(10485760);
    expect(r.waste.top).toEqual([{ path: 'opt/big.bin', bytes: 10485760, layers: [1], reason: 'deleted' }]);
    expect(r.rows.map((row) => [row.index, row.size, row.instruction])).toEqual([
      [0, 8, 'ADD file:0123abcd in /'],
      [1, 10485760, 'RUN head -c 10485760 /dev/urandom > /opt/big.bin'],
      [2, 0, 'RUN rm /opt/big.bin'],
    ]);
    expect(r.sizeChange).toBe(size - 5_000_000);

    const line = r.markdown.split('\n')[0]!;
    expect(line).toContain('**10.5 MB** in 3 layer(s)');
    // 5485768 bytes more than 5 MB: +5.49 MB, +109.7%
    expect(line).toContain('+5.49 MB (+109.7%) vs `demo:20261130120000-abcdef0` (serving)');
    expect(line).toContain('wasted 10.5 MB (10485760 bytes)');
    // 10485760 of 10485768 file bytes are hidden
    expect(line).toContain(`efficiency ${((8 / 10485768) * 100).toFixed(1)}%`);

    expect(r.markdown).toContain(
      [
        '| path | bytes | reason |',
        '| --- | --- | --- |',
        '| `opt/big.bin` | 10.5 MB (10485760) | deleted; hidden copy in layer 1 |',
      ].join('\n'),
    );
    // the empty RUN rm layer is not bold; the two layers with bytes are
    expect(layerTable(r.markdown).map((row) => row[1])).toEqual(['**8 B**', '**10.5 MB**', '0 B']);
    const c = chart(r.markdown);
    expect(c.labels).toEqual(['0', '1', '2']);
    expect(c.bars).toEqual([0, 10.49, 0]);
  });

  test('seven layers: the five biggest are bold, one bar each, instructions cut at 80 and escaped', async () => {
    const sizes = [1000, 7000, 3000, 6000, 2000, 5000, 4000];
    const tars = await Promise.all(
      sizes.map((n, i) => tarOf([{ name: `l${i}.bin`, body: Buffer.alloc(n) }])),
    );
    const long = `RUN /bin/sh -c echo ${'x'.repeat(200)}`;
    const history = sizes.map((_, i) =>
      i === 3
        ? { created_by: long }
        : i === 4
          ? { created_by: 'RUN /bin/sh -c a | b `c` # buildkit' }
          : { created_by: `COPY l${i}.bin / # buildkit` },
    );
    const save = await legacySave(tars, configOf(tars, history));
    const r = await imageReport({
      ref: 'app:7',
      id: 'sha256:7',
      size: 28_000,
      save: () => Promise.resolve(streamOf(save, 777)),
    });
    expect(r.biggest.map((b) => b.index)).toEqual([1, 3, 5, 6, 2]);
    const cells = layerTable(r.markdown);
    expect(cells.map((row) => row[1])).toEqual([
      '1.00 KB',
      '**7.00 KB**',
      '**3.00 KB**',
      '**6.00 KB**',
      '2.00 KB',
      '**5.00 KB**',
      '**4.00 KB**',
    ]);
    // the long instruction: 80 characters with the ellipsis, inside a code span
    const cut = cells[3]![2]!;
    expect(cut).toMatch(/^`RUN echo x+…`$/);
    expect(cut.length - 2).toBe(80);
    // a pipe is escaped so it cannot split the cell; backticks get a longer fence
    expect(r.markdown).toContain('| 4 | 2.00 KB | `` RUN a \\| b `c` `` |');
    expect(cells[4]).toHaveLength(3);
    const c = chart(r.markdown);
    expect(c.labels).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(c.bars).toEqual([0, 0.01, 0, 0.01, 0, 0.01, 0]);
    expect(r.markdown).not.toContain('| path | bytes | reason |');
  });

  test('a file overwritten twice: both hidden copies are named, biggest waste first', async () => {
    const tars = [
      await tarOf([
        { name: 'app/bundle.js', body: Buffer.alloc(3000) },
        { name: 'app/a.css', body: Buffer.alloc(100) },
      ]),
      await tarOf([{ name: 'app/bundle.js', body: Buffer.alloc(2000) }]),
      await tarOf([
        { name: 'app/bundle.js', body: Buffer.alloc(1000) },
        { name: 'app/.wh.a.css', body: '' },
      ]),
    ];
    const save = await legacySave(tars);
    const r = await imageReport({
      ref: 'demo:2',
      id: 'x',
      size: 6100,
      save: () => Promise.resolve(streamOf(save)),
    });
    expect(r.waste.wastedBytes).toBe(5100);
    expect(r.markdown).toContain(
      [
        '| path | bytes | reason |',
        '| --- | --- | --- |',
        '| `app/bundle.js` | 5.00 KB (5000) | overwritten; hidden copies in layers 0, 1 |',
        '| `app/a.css` | 100 B (100) | deleted; hidden copy in layer 0 |',
      ].join('\n'),
    );
    expect(r.markdown.split('\n')[0]).toContain('wasted 5.10 KB (5100 bytes) · efficiency 16.4%');
  });

  test('an old-style stream (not a stream.Readable) is wrapped and read', async () => {
    const save = await wastefulSave();
    const inner = streamOf(save);
    // Only the classic ReadableStream surface; not an instance of Readable.
    const classic = {
      readable: true,
      on: (e: string, f: (...a: unknown[]) => void) => (inner.on(e, f), classic),
      pause: () => (inner.pause(), classic),
      resume: () => (inner.resume(), classic),
      read: () => inner.read() as unknown,
      isPaused: () => inner.isPaused(),
      removeListener: (e: string, f: (...a: unknown[]) => void) => (inner.removeListener(e, f), classic),
    } as unknown as NodeJS.ReadableStream;
    expect(classic).not.toBeInstanceOf(Readable);
    const r = await imageReport({ ref: 'demo:1', id: 'x', size: 1, save: () => Promise.resolve(classic) });
    expect(r.waste.wastedBytes).toBe(10485760);
  });

  test('a save that fails rejects with the error, it is not reported as an empty image', async () => {
    const failing: ImageReportInput['save'] = () =>
      Promise.resolve(
        Readable.from(
          (async function* () {
            yield Buffer.alloc(512);
            throw new Error('connection reset');
          })(),
        ),
      );
    await expect(imageReport({ ref: 'demo:1', id: 'x', size: 1, save: failing })).rejects.toThrow(
      'connection reset',
    );
  });

  test('not a save at all: rejects with what is missing', async () => {
    const tar = await tarOf([{ name: 'hello.txt', body: 'hi' }]);
    await expect(
      imageReport({ ref: 'demo:1', id: 'x', size: 1, save: () => Promise.resolve(streamOf(tar)) }),
    ).rejects.toThrow(/not a docker save archive/);
  });
});

describe('formatChange', () => {
  test.each([
    [1_200_000, 35_294_118, '+1.20 MB (+3.4%)'],
    [-4, 13, '-4 B (-30.8%)'],
    [0, 100, '±0 B (0.0%)'],
    [5, 0, '+5 B'],
    [-1, 1_000_000_000, '-1 B (0.0%)'],
  ])('%i against %i → %s', (change, from, expected) => {
    expect(formatChange(change, from)).toBe(expected);
  });
});
