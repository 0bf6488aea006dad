// What serves now, as the host shows it: the image of the active color (for the image report's
// size change, before the lock is taken; the switch step observes again under the lock).
import type { RunContext } from '../context.js';
import { portsView } from './switch.js';
import { activeColor } from './plan.js';
import { observeContainers } from './runtime/container.js';

export async function servingImage(
  ctx: RunContext,
): Promise<{ ref: string; id: string; size: number } | undefined> {
  const host = ctx.host;
  if (!host) return undefined;
  const cfg = ctx.config.deploy;
  const containers = ctx.runtime
    ? await ctx.runtime.observe()
    : await observeContainers(host.docker, cfg.app);
  const upstream =
    cfg.proxy === 'nginx'
      ? (await host.readFile(cfg.nginxUpstreamFile).catch(() => undefined))?.toString('utf8')
      : undefined;
  const view = activeColor(portsView(ctx), { containers, history: [], ...(upstream ? { upstream } : {}) });
  const c = view.active ? containers[view.active] : undefined;
  if (!c) return undefined;
  const info = await host.docker
    .getImage(c.imageId)
    .inspect()
    .catch(() => undefined);
  if (!info) return undefined;
  return { ref: info.RepoTags?.[0] ?? c.imageId.slice(0, 19), id: info.Id, size: info.Size };
}
