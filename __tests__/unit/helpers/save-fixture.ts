// Synthetic `docker save` archives built with tar-stream's pack, for tests of what reads them.
// The same approach as report-layers.test.ts: layer tars first, then a legacy save around them.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pack, type Pack } from 'tar-stream';

/** A body written in chunks, so a big file never exists as one buffer. */
export interface Chunked {
  size: number;
  chunks: () => Iterable<Buffer> | AsyncIterable<Buffer>;
}
export interface TarEntry {
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

export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const p = pack();
  const out = collect(p);
  for (const e of entries) await addEntry(p, e);
  p.finalize();
  return out;
}

/** A file of `size` zero-ish bytes written in 256 KiB chunks. */
export function bigFile(size: number): Chunked {
  const step = 256 * 1024;
  return {
    size,
    chunks: function* () {
      for (let at = 0, i = 0; at < size; at += step, i++) yield Buffer.alloc(Math.min(step, size - at), i);
    },
  };
}

/** Replays a buffer in chunks of `size` bytes, like a socket would. */
export function streamOf(buf: Buffer, size = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    })(),
  );
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A config as the daemon writes it; diffIds are the sha256 of the uncompressed layer tars. */
export function configOf(layerTars: readonly Buffer[], history?: object[]): object {
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
export async function legacySave(
  layerTars: readonly Buffer[],
  config: object | null = configOf(layerTars),
): Promise<Buffer> {
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
