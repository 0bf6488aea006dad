// Which layers of the built image the host lacks. Pure: callers feed it the image's RootFS diffIds and
// the host images' RootFS layers; the filter then drops the layer files of the skipped positions.
import { createHash } from 'node:crypto';

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)), as `sha256:<hex>`. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const below = out[out.length - 1];
    out.push(
      below === undefined
        ? diffId
        : 'sha256:' + createHash('sha256').update(`${below} ${diffId}`).digest('hex'),
    );
  }
  return out;
}

/** Every chain the host holds. A chain id stands for the whole stack below it, so a diffId alone is not enough. */
export function hostChainIds(hostImages: ReadonlyArray<{ layers: readonly string[] }>): Set<string> {
  const host = new Set<string>();
  for (const img of hostImages) for (const id of chainIds(img.layers)) host.add(id);
  return host;
}

export interface LayerPlanEntry {
  index: number;
  diffId: string;
  chainId: string;
  size?: number;
  send: boolean;
}

export interface ShipPlan {
  layers: LayerPlanEntry[];
  sendCount: number;
  skipCount: number;
  /** Bytes of the layer files that go out: a diffId is one file in the tar however often it repeats. */
  bytesToSend?: number;
  bytesSkipped?: number;
}

/**
 * Layer i is skipped only when the host has chainIds[i] and every layer below is skipped too: `docker load`
 * reads a layer's file whenever its chain is missing, so a gap below would need the file. On a real host
 * the second condition follows from the first; it guards against a partial host list.
 * Full transfer: planLayers(diffIds, new Set()).
 */
export function planLayers(
  diffIds: readonly string[],
  host: Set<string>,
  sizes?: readonly number[],
): ShipPlan {
  if (sizes && sizes.length !== diffIds.length) {
    throw new RangeError(`planLayers: ${sizes.length} sizes for ${diffIds.length} layers`);
  }
  const chains = chainIds(diffIds);
  const layers: LayerPlanEntry[] = [];
  let below = true; // every layer below the current one is skipped
  diffIds.forEach((diffId, index) => {
    const chainId = chains[index] as string;
    below = below && host.has(chainId);
    const entry: LayerPlanEntry = { index, diffId, chainId, send: !below };
    if (sizes) entry.size = sizes[index];
    layers.push(entry);
  });
  const sendCount = layers.filter((l) => l.send).length;
  const plan: ShipPlan = { layers, sendCount, skipCount: layers.length - sendCount };
  if (sizes) {
    // The filter keeps a shared file when any of its positions is sent: count each diffId once, that way.
    const sent = new Map<string, { size: number; send: boolean }>();
    for (const l of layers) {
      const seen = sent.get(l.diffId);
      sent.set(l.diffId, { size: l.size ?? 0, send: l.send || (seen?.send ?? false) });
    }
    plan.bytesToSend = 0;
    plan.bytesSkipped = 0;
    for (const { size, send } of sent.values()) {
      if (send) plan.bytesToSend += size;
      else plan.bytesSkipped += size;
    }
  }
  return plan;
}
