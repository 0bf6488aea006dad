// The ship step: get the built image onto the host. `ssh` streams `docker save` from the runner's
// daemon, leaves out the layers the host has, gzips, and streams into the host's image load
// endpoint over the one SSH connection; then checks the host has the exact image ID.
import type Docker from 'dockerode';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { previousImageOf, runnerDocker } from '../build/step.js';
import type { RunContext } from '../context.js';
import { formatBytes, formatMs } from '../log.js';
import type { Step } from '../pipeline.js';
import { layerRows, type HistoryEntry } from '../report/layers.js';
import { table } from '../report/summary.js';
import { filterSave } from './filter.js';
import { hostChainIds, planLayers, type ShipPlan } from './plan.js';

export class ShipError extends Error {}

/** The ship plan as table rows: layer, short diff ID, size, and whether it travels. */
function planRows(plan: ShipPlan): Array<Array<string | number>> {
  return plan.layers.map((l) => [
    l.index,
    l.diffId.slice(7, 19),
    formatBytes(l.size ?? 0),
    l.send ? 'send' : 'on host',
  ]);
}

const PROGRESS_EVERY_MS = 2000;

async function hostHasImage(docker: Docker, id: string): Promise<boolean> {
  try {
    return (await docker.getImage(id).inspect()).Id === id;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/**
 * RootFS diff IDs of every image on the host: what layers it has. The inspects run side by side
 * (the SSH agent caps how many channels are open at once): one round trip each would make
 * planning grow with the number of images on the host.
 */
export async function hostLayers(docker: Docker): Promise<Array<{ layers: string[] }>> {
  const images = await docker.listImages({ all: false });
  const infos = await Promise.all(
    images.map((i) =>
      docker
        .getImage(i.Id)
        .inspect()
        .catch(() => undefined),
    ),
  );
  return infos.flatMap((info) => (info?.RootFS?.Layers ? [{ layers: info.RootFS.Layers }] : []));
}

async function tagOnHost(docker: Docker, id: string, refs: readonly string[]): Promise<void> {
  for (const ref of refs) {
    const colon = ref.lastIndexOf(':');
    await docker.getImage(id).tag({ repo: ref.slice(0, colon), tag: ref.slice(colon + 1) });
  }
}

/** Reads docker's JSON-lines progress answer and throws on the first error it reports. */
async function readProgress(stream: Readable): Promise<string[]> {
  const lines: string[] = [];
  let buf = '';
  for await (const chunk of stream) {
    buf += String(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const msg = JSON.parse(line) as {
        stream?: string;
        status?: string;
        error?: string;
        errorDetail?: { message?: string };
      };
      if (msg.error || msg.errorDetail)
        throw new ShipError(msg.errorDetail?.message ?? msg.error ?? 'unknown error');
      if (msg.stream) lines.push(msg.stream.trim());
    }
  }
  return lines;
}

class Meter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

export interface ShipResult {
  readonly transfer: string;
  readonly bytesSent: number;
  readonly layersSent: number;
  readonly layersSkipped: number;
  readonly ms: number;
  readonly plan?: ShipPlan;
}

/** Streams the image into the host. Exported for the benchmark, which compares it with `docker save | ssh docker load`. */
export async function streamImage(
  from: Docker,
  to: Docker,
  image: { id: string; diffIds: readonly string[] },
  plan: ShipPlan,
  progress: (sentWire: number, sentRaw: number) => void = () => undefined,
): Promise<{ wireBytes: number; rawBytes: number; droppedLayers: number; keptLayerBytes: number }> {
  const skip = new Set(plan.layers.filter((l) => !l.send).map((l) => l.index));
  // By ID, not by tag: a tag can be moved by a concurrent build between build and save.
  const save = (await from.getImage(image.id).get()) as unknown as Readable;
  const filter = filterSave({ diffIds: image.diffIds, skip });
  const raw = new Meter();
  const wire = new Meter();
  const gzip = zlib.createGzip({ level: 1 });
  const body = new PassThrough();
  const timer = setInterval(() => progress(wire.bytes, raw.bytes), PROGRESS_EVERY_MS);
  try {
    const sending = pipeline(save, filter.stream, raw, gzip, wire, body);
    const answer = (await to.loadImage(body as never, { quiet: true })) as unknown as Readable;
    const [, , result] = await Promise.all([sending, readProgress(answer), filter.result]);
    return {
      wireBytes: wire.bytes,
      rawBytes: raw.bytes,
      droppedLayers: result.droppedLayers.length,
      keptLayerBytes: result.keptLayerBytes,
    };
  } finally {
    clearInterval(timer);
  }
}

export const shipStep: Step = {
  name: 'ship',
  async run(ctx: RunContext) {
    const host = ctx.host!;
    if (!ctx.built) return planWithoutBuild(ctx);
    const built = ctx.built;
    const transfer = ctx.config.ship.transfer;
    const extraTags = ctx.config.build.tags.filter((t) => t !== built.ref);
    const done = (r: ShipResult) => {
      ctx.outputs.set('bytes-sent', r.bytesSent);
      ctx.outputs.set('layers-sent', r.layersSent);
      ctx.outputs.set('layers-skipped', r.layersSkipped);
    };

    if (transfer === 'none') {
      if (!ctx.config.dryRun && !(await hostHasImage(host.docker, built.id))) {
        throw new ShipError(
          `transfer: none, but ${host.label} does not have ${built.ref} (${built.id}); use transfer: ssh or registry`,
        );
      }
      ctx.log.info(`transfer: none: ${built.ref} is already where it runs (${host.label})`);
      done({ transfer, bytesSent: 0, layersSent: 0, layersSkipped: built.diffIds.length, ms: 0 });
      return;
    }

    if (await hostHasImage(host.docker, built.id)) {
      ctx.log.info(`${host.label} already has ${built.id.slice(0, 19)}: nothing to send`);
      if (!ctx.config.dryRun) await tagOnHost(host.docker, built.id, [built.ref, ...extraTags]);
      done({ transfer, bytesSent: 0, layersSent: 0, layersSkipped: built.diffIds.length, ms: 0 });
      ctx.summary.add('Ship', `${host.label} already had \`${built.ref}\`: nothing sent.`);
      return;
    }

    if (transfer === 'registry') {
      if (ctx.config.dryRun) {
        ctx.log.info(`plan: ship: ${host.label} pulls ${built.ref} from its registry`);
        return;
      }
      const t0 = Date.now();
      const auth = ctx.config.ship.registryAuth;
      const domain = ctx.config.build.repository?.domain ?? 'https://index.docker.io/v1/';
      const stream = (await host.docker.pull(
        built.ref,
        auth
          ? { authconfig: { username: auth.username, password: auth.password, serveraddress: domain } }
          : {},
      )) as unknown as Readable;
      await ctx.log.group(`Pull ${built.ref} on ${host.label}`, () => readProgress(stream));
      if (!(await hostHasImage(host.docker, built.id))) {
        throw new ShipError(
          `the host pulled ${built.ref} but it is not the image that was built (${built.id}): did another build push the same tag?`,
        );
      }
      await tagOnHost(host.docker, built.id, extraTags);
      done({ transfer, bytesSent: 0, layersSent: 0, layersSkipped: 0, ms: Date.now() - t0 });
      ctx.summary.add(
        'Ship',
        `${host.label} pulled \`${built.ref}\` from the registry in ${formatMs(Date.now() - t0)}.`,
      );
      return;
    }

    // ssh or ssh-full
    const { plan, full } = await shipPlan(ctx);
    const planned = plan.bytesToSend ?? 0;
    const rows = planRows(plan);
    ctx.log.info(
      `ship plan: ${plan.sendCount} layer(s) to send (${formatBytes(planned)}), ${plan.skipCount} already on ${host.label} (${formatBytes(plan.bytesSkipped ?? 0)})`,
    );
    if (ctx.config.dryRun) {
      ctx.summary.add('Ship (plan)', table(['layer', 'diff id', 'size', 'action'], rows));
      for (const r of rows) ctx.log.info(`plan: layer ${r[0]} ${r[1]} ${r[2]}: ${r[3]}`);
      return;
    }

    const t0 = Date.now();
    let result: { wireBytes: number; rawBytes: number };
    try {
      result = await ctx.log.group(
        `Send ${built.ref} to ${host.label} (${full ? 'every layer' : 'missing layers only'})`,
        () =>
          streamImage(runnerDocker(), host.docker, built, plan, (wire, raw) => {
            const s = (Date.now() - t0) / 1000;
            const pct =
              planned > 0
                ? ` (${Math.min(100, Math.round((raw / planned) * 100))}% of ${formatBytes(planned)})`
                : '';
            ctx.log.info(
              `sent ${formatBytes(wire)} compressed${pct}, ${formatBytes(wire / Math.max(s, 0.001))}/s`,
            );
          }),
      );
    } catch (e) {
      const still = await hostHasImage(host.docker, built.id).catch(() => false);
      const why = (e as Error).message;
      const dropped = /Not connected|socket hang up|ECONNRESET|connection .*closed|EPIPE/i.test(why)
        ? ' (the SSH connection dropped)'
        : '';
      throw new ShipError(
        `sending ${built.ref} to ${host.label} failed after ${formatMs(Date.now() - t0)}: ${why}${dropped}. ${still ? '' : 'The host holds no partial image (docker load registers only complete images); '}rerun the deploy`,
      );
    }
    const ms = Date.now() - t0;
    if (!(await hostHasImage(host.docker, built.id))) {
      throw new ShipError(
        `after loading, ${host.label} does not have image ${built.id}: the load did not produce the image that was built`,
      );
    }
    await tagOnHost(host.docker, built.id, [built.ref, ...extraTags]);
    done({
      transfer,
      bytesSent: result.wireBytes,
      layersSent: plan.sendCount,
      layersSkipped: plan.skipCount,
      ms,
    });
    ctx.log.info(
      `sent ${formatBytes(result.wireBytes)} (${plan.sendCount} layer(s), ${plan.skipCount} skipped) in ${formatMs(ms)}, ${formatBytes(result.wireBytes / Math.max(ms / 1000, 0.001))}/s; ${host.label} has ${built.id.slice(0, 19)}`,
    );
    ctx.summary.add(
      'Ship',
      table(
        ['transfer', 'sent (gzip)', 'layers sent', 'layers skipped', 'skipped bytes', 'time', 'rate'],
        [
          [
            full ? 'ssh-full' : 'ssh (missing layers only)',
            formatBytes(result.wireBytes),
            plan.sendCount,
            plan.skipCount,
            formatBytes(plan.bytesSkipped ?? 0),
            formatMs(ms),
            `${formatBytes(result.wireBytes / Math.max(ms / 1000, 0.001))}/s`,
          ],
        ],
      ) +
        '\n\n' +
        table(['layer', 'diff id', 'size', 'action'], rows),
    );
  },
};

/**
 * Which layers of the built image the host lacks (cached: the disk guard reads it before shipping).
 * The containerd image store gets every layer: loading without the ones it has is not proven there.
 */
export async function shipPlan(ctx: RunContext): Promise<{ plan: ShipPlan; full: boolean }> {
  if (ctx.shipPlan) return ctx.shipPlan;
  const built = ctx.built!;
  const host = ctx.host!;
  let full = ctx.config.ship.transfer === 'ssh-full';
  if (!full && ctx.daemon?.containerdStore) {
    ctx.log.info(
      `${host.label} uses the containerd image store, where loading an image without the layers it has is not proven: sending every layer`,
    );
    full = true;
  }
  const sizes = await layerSizes(runnerDocker(), built.id, built.diffIds);
  const plan = planLayers(
    built.diffIds,
    full ? new Set() : hostChainIds(await hostLayers(host.docker)),
    sizes,
  );
  ctx.shipPlan = { plan, full };
  return ctx.shipPlan;
}

/**
 * dry-run builds nothing, so the layers to send are estimated from the newest image of this app
 * on the runner (the previous build), which shares what an unchanged Dockerfile would reuse.
 */
async function planWithoutBuild(ctx: RunContext): Promise<void> {
  const host = ctx.host!;
  const transfer = ctx.config.ship.transfer;
  if (transfer !== 'ssh' && transfer !== 'ssh-full') {
    ctx.log.info(
      `plan: ship: ${transfer === 'none' ? 'nothing to send (transfer: none)' : `${host.label} pulls ${ctx.config.build.tags[0]} from its registry`}`,
    );
    return;
  }
  const standIn = await previousImageOf(ctx.config.deploy.app, '').catch(() => undefined);
  const info = standIn
    ? await runnerDocker()
        .getImage(standIn)
        .inspect()
        .catch(() => undefined)
    : undefined;
  if (!info) {
    ctx.log.info(
      `plan: ship: every layer of the new image (no earlier build of ${ctx.config.deploy.app} on the runner to estimate from)`,
    );
    return;
  }
  const diffIds = info.RootFS.Layers ?? [];
  const full = transfer === 'ssh-full' || ctx.daemon?.containerdStore;
  const plan = planLayers(
    diffIds,
    full ? new Set() : hostChainIds(await hostLayers(host.docker)),
    await layerSizes(runnerDocker(), info.Id, diffIds),
  );
  const rows = planRows(plan);
  ctx.log.info(
    `plan: ship: estimated from ${standIn}, the newest build of ${ctx.config.deploy.app} on the runner: the layers it shares with the new build are skipped the same way`,
  );
  for (const r of rows) ctx.log.info(`plan: layer ${r[0]} ${r[1]} ${r[2]}: ${r[3]}`);
  ctx.summary.add(
    'Ship (plan)',
    `Estimated from \`${standIn}\`:\n\n` + table(['layer', 'diff id', 'size', 'action'], rows),
  );
}

/** Per-layer sizes (bottom → top) from the builder's image history. */
export async function layerSizes(
  docker: Docker,
  id: string,
  diffIds: readonly string[],
): Promise<number[] | undefined> {
  const history = (await docker
    .getImage(id)
    .history()
    .catch(() => undefined)) as HistoryEntry[] | undefined;
  if (!history) return undefined;
  return layerRows(history, diffIds).map((r) => r.size);
}
