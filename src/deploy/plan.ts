// Which color serves, which one to start, and what the proxy file should say: pure decisions
// from what was observed on the host (never from the runner's memory of earlier runs).
import type { DeployConfig } from '../config/schema.js';

export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];
export const other = (c: Color): Color => (c === 'blue' ? 'green' : 'blue');

export interface ObservedContainer {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly state: string;
  readonly imageId: string;
  readonly buildTag?: string;
  readonly created: number;
}

export interface DeployRecord {
  readonly at: string;
  readonly app: string;
  readonly color: Color;
  readonly buildTag: string;
  readonly imageId: string;
  readonly image?: string;
  readonly runId?: string;
  readonly actor?: string;
  readonly repository?: string;
  readonly command: 'deploy' | 'rollback';
  readonly result: 'success' | 'failed';
  readonly reason?: string;
}

export interface ObservedState {
  readonly containers: Partial<Record<Color, ObservedContainer>>;
  /** Content of the nginx upstream file, when the proxy is nginx and the file exists. */
  readonly upstream?: string;
  readonly history: readonly DeployRecord[];
}

export interface ActiveView {
  readonly active?: Color;
  /** Why this color is considered active (or why none is). */
  readonly why: string;
}

/** Ports named by `server host:port;` lines of an upstream file (`[v6]:port` included). */
export function upstreamPorts(content: string): number[] {
  const ports: number[] = [];
  for (const m of content.matchAll(/^\s*server\s+(?:\[[^\]\s]*\]|[^\s;:[\]]+):(\d+)(?=[\s;])[^;]*;/gm))
    ports.push(Number(m[1]));
  return ports;
}

export function colorOfPort(cfg: Pick<DeployConfig, 'ports'>, port: number): Color | undefined {
  return port === cfg.ports.blue ? 'blue' : port === cfg.ports.green ? 'green' : undefined;
}

/**
 * The serving color. With nginx: the color the upstream file points at, if its container runs.
 * Otherwise: the running color of the latest successful deploy (or the only running one).
 */
export function activeColor(cfg: Pick<DeployConfig, 'ports' | 'proxy'>, s: ObservedState): ActiveView {
  const running = COLORS.filter((c) => s.containers[c]?.running);
  if (cfg.proxy === 'nginx' && s.upstream !== undefined) {
    const colors = [...new Set(upstreamPorts(s.upstream).map((p) => colorOfPort(cfg, p)))];
    if (colors.length === 1 && colors[0]) {
      const c = colors[0];
      return s.containers[c]?.running
        ? { active: c, why: `the upstream file points at ${c} (port ${cfg.ports[c]}), which is running` }
        : { why: `the upstream file points at ${c}, but ${c} is not running` };
    }
    if (colors.length > 1) return { why: 'the upstream file points at both colors' };
  }
  if (running.length === 1) return { active: running[0]!, why: `${running[0]} is the only running color` };
  if (running.length === 2) {
    const last = s.history.find((h) => h.result === 'success');
    if (last)
      return { active: last.color, why: `both colors run; the last successful deploy started ${last.color}` };
    const newest = running.sort((a, b) => s.containers[b]!.created - s.containers[a]!.created)[0]!;
    return { active: newest, why: `both colors run; ${newest} is the newer container` };
  }
  return { why: 'no color is running (first deploy)' };
}

export interface DeployPlan {
  readonly newColor: Color;
  readonly oldColor?: Color;
  /** The stopped or stale container of the new color that must go first. */
  readonly replace?: ObservedContainer;
  readonly why: string;
}

export function planDeploy(cfg: Pick<DeployConfig, 'ports' | 'proxy'>, s: ObservedState): DeployPlan {
  const view = activeColor(cfg, s);
  const newColor = view.active ? other(view.active) : 'blue';
  const replace = s.containers[newColor];
  return {
    newColor,
    ...(view.active ? { oldColor: view.active } : {}),
    ...(replace ? { replace } : {}),
    why: view.why,
  };
}

/** The upstream file's whole content: only the server line(s), included in the user's block. */
export function upstreamContent(address: string, port: number): string {
  // A wildcard bind address is reached on loopback (as the health check does, in switch.ts).
  const a = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  const host = a.includes(':') ? `[${a}]` : a;
  return `# managed by docker-bluegreen-action: the serving color's address\nserver ${host}:${port};\n`;
}

export type RollbackTarget =
  | { kind: 'container'; color: Color; container: ObservedContainer; buildTag?: string }
  | { kind: 'image'; color: Color; imageId: string; buildTag: string }
  | { kind: 'none'; reason: string };

/**
 * `previous`: the other color's kept container (or its image from the history); a build tag: that
 * image, started in the idle color. `images` maps build tags still on the host to image IDs.
 */
export function planRollback(
  cfg: Pick<DeployConfig, 'ports' | 'proxy' | 'rollbackTo'>,
  s: ObservedState,
  images: ReadonlyMap<string, string>,
): RollbackTarget {
  const view = activeColor(cfg, s);
  if (!view.active) return { kind: 'none', reason: `nothing to roll back from: ${view.why}` };
  const idle = other(view.active);
  const activeImage = s.containers[view.active]?.imageId;
  if (cfg.rollbackTo === 'previous') {
    const kept = s.containers[idle];
    if (kept && kept.imageId !== activeImage) {
      return {
        kind: 'container',
        color: idle,
        container: kept,
        ...(kept.buildTag ? { buildTag: kept.buildTag } : {}),
      };
    }
    const prev = s.history.find(
      (h) => h.result === 'success' && h.imageId !== activeImage && [...images.values()].includes(h.imageId),
    );
    if (prev) return { kind: 'image', color: idle, imageId: prev.imageId, buildTag: prev.buildTag };
    return {
      kind: 'none',
      reason: `no previous version of the app is left on the host (the ${idle} container and its image are gone)`,
    };
  }
  const tag = cfg.rollbackTo.buildTag;
  const id = images.get(tag);
  if (!id)
    return {
      kind: 'none',
      reason: `build tag ${tag} is not on the host (tags there: ${[...images.keys()].slice(0, 10).join(', ') || 'none'})`,
    };
  if (id === activeImage)
    return { kind: 'none', reason: `build tag ${tag} is already serving (${view.active})` };
  return { kind: 'image', color: idle, imageId: id, buildTag: tag };
}
