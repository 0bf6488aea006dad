// The blue/green move shared by deploy and rollback: start (or restart) the idle color, gate on
// health, switch the proxy, record it, drain, stop the old color. Any failure before the switch
// leaves the proxy untouched; the old color keeps serving.
import * as core from '@actions/core';
import type Docker from 'dockerode';
import type { RunContext } from '../context.js';
import type { Host } from '../host/index.js';
import { formatMs } from '../log.js';
import { table } from '../report/summary.js';
import { waitHealthy, type HealthResult } from './health.js';
import { DeployLock } from './lock.js';
import {
  other,
  upstreamContent,
  type Color,
  type DeployRecord,
  type ObservedContainer,
  type ObservedState,
} from './plan.js';
import { runSwitchCommand } from './proxy/command.js';
import { switchNginx } from './proxy/nginx.js';
import { containerName, lastLogLines, observeContainers } from './runtime/container.js';
import { appendHistory, appStateDir, parseEnvFile, readHistory } from './state.js';

export class DeployError extends Error {}

export interface SwitchResult {
  readonly newColor: Color;
  readonly oldColor?: Color;
  readonly activeImageId: string;
  readonly rollbackImageId?: string;
  readonly health: HealthResult;
}

export async function observe(ctx: RunContext, stateDir: string): Promise<ObservedState> {
  const host = ctx.host!;
  const cfg = ctx.config.deploy;
  const [containers, history, upstream] = await Promise.all([
    ctx.runtime ? ctx.runtime.observe() : observeContainers(host.docker, cfg.app),
    readHistory(host, stateDir),
    cfg.proxy === 'nginx' ? host.readFile(cfg.nginxUpstreamFile) : Promise.resolve(undefined),
  ]);
  return { containers, history, ...(upstream ? { upstream: upstream.toString('utf8') } : {}) };
}

/** Takes the app's deploy lock on the host; main releases it, the post step if main crashed. */
export async function acquireLock(ctx: RunContext): Promise<string> {
  const host = ctx.host!;
  const stateDir = await appStateDir(host, ctx.config.deploy.app);
  const lock = new DeployLock(host, `${stateDir}/lock`, ctx.config.github, ctx.log);
  const t0 = Date.now();
  await lock.acquire(ctx.config.deploy.lockTimeoutMs, () =>
    ctx.state.save('lock', JSON.stringify({ dir: lock.dir, nonce: lock.owner.nonce })),
  );
  ctx.lock = lock;
  ctx.log.info(
    `deploy lock ${lock.dir} acquired${Date.now() - t0 > 1500 ? ` after ${formatMs(Date.now() - t0)}` : ''}`,
  );
  return stateDir;
}

export async function readEnvFile(host: Host, path: string | undefined): Promise<Array<[string, string]>> {
  if (!path) return [];
  const data = await host.readFile(path);
  if (!data) throw new DeployError(`input 'env-file': ${path} does not exist on ${host.label}`);
  const pairs = parseEnvFile(data.toString('utf8'));
  for (const [, v] of pairs) if (v.length >= 4) core.setSecret(v);
  return pairs;
}

/** The deploy config with the ports the runtime really uses (a compose file publishes its own). */
export function portsView(ctx: RunContext): RunContext['config']['deploy'] {
  const rt = ctx.runtime;
  return rt
    ? { ...ctx.config.deploy, ports: { blue: rt.port('blue'), green: rt.port('green') } }
    : ctx.config.deploy;
}

export interface BringUp {
  readonly color: Color;
  readonly oldColor?: Color;
  /** Start this stopped container again (rollback to a kept color)... */
  readonly restart?: ObservedContainer;
  /** ...or create the color from this image (removing `replace` first). */
  readonly image?: string;
  readonly replace?: ObservedContainer;
  readonly buildTag: string;
  readonly imageId: string;
  readonly command: 'deploy' | 'rollback';
  readonly oldContainer?: ObservedContainer;
}

export async function bringUpAndSwitch(ctx: RunContext, stateDir: string, b: BringUp): Promise<SwitchResult> {
  const host = ctx.host!;
  const docker = host.docker;
  const cfg = ctx.config.deploy;
  const timings: Array<[string, number]> = [];
  const tick = (label: string, t0: number) => timings.push([label, Date.now() - t0]);
  const record = (result: 'success' | 'failed', reason?: string): DeployRecord => ({
    at: new Date().toISOString(),
    app: cfg.app,
    color: b.color,
    buildTag: b.buildTag,
    imageId: b.imageId,
    ...(ctx.config.build.repository ? { image: `${ctx.config.build.repository.name}:${b.buildTag}` } : {}),
    ...(ctx.config.github.runId ? { runId: ctx.config.github.runId } : {}),
    ...(ctx.config.github.actor ? { actor: ctx.config.github.actor } : {}),
    ...(ctx.config.github.repository ? { repository: ctx.config.github.repository } : {}),
    command: b.command,
    result,
    ...(reason ? { reason } : {}),
  });

  // 1. The idle color: restart the kept container, or create it from the image.
  const rt = ctx.runtime!;
  const port = rt.port(b.color);
  let t0 = Date.now();
  let container: Docker.Container;
  if (b.restart) {
    container = await rt.restart(b.color, b.restart);
    ctx.log.info(
      `started the kept ${rt.describe(b.color)} again (${b.restart.buildTag ?? b.restart.imageId.slice(0, 19)})`,
    );
  } else {
    if (b.replace)
      ctx.log.info(`replacing the old ${rt.describe(b.color)} (${b.replace.buildTag ?? b.replace.state})`);
    container = await rt.startNew(b.color, b.image!, b.buildTag, b.replace);
    ctx.log.info(
      `started ${rt.describe(b.color)} from ${b.image} on ${cfg.network === 'host' || rt.kind === 'compose' ? `port ${port}` : `${cfg.bindAddress}:${port}`}`,
    );
  }
  tick('start', t0);

  // 2. Health gate.
  t0 = Date.now();
  const address =
    cfg.bindAddress === '0.0.0.0' ? '127.0.0.1' : cfg.bindAddress === '::' ? '::1' : cfg.bindAddress;
  const health = await waitHealthy({
    kind: cfg.healthCheck,
    host,
    container,
    address,
    port,
    path: cfg.healthPath,
    timeoutMs: cfg.healthTimeoutMs,
  });
  tick('health', t0);
  if (!health.ok) {
    const logs = await lastLogLines(docker, container).catch(
      (e: Error) => `(could not read the logs: ${e.message})`,
    );
    await ctx.log.group(`Last 50 log lines of ${rt.describe(b.color)}`, async () =>
      ctx.log.info(logs || '(no output)'),
    );
    await rt
      .discard(b.color, container, Boolean(b.restart))
      .catch((e: Error) =>
        ctx.log.warning(`could not take ${rt.describe(b.color)} away again: ${e.message}`),
      );
    const reason = `${b.color} (${b.buildTag}) was not healthy within ${formatMs(cfg.healthTimeoutMs)} (health-timeout): last probe: ${health.last}`;
    await appendHistory(host, stateDir, record('failed', reason)).catch(() => undefined);
    ctx.summary.add(
      'Switch',
      `**Health check failed**: ${reason}. ${b.oldColor ? `${b.oldColor} keeps serving` : 'nothing was serving'}; the proxy was not touched.\n\n<details><summary>last log lines</summary>\n\n\`\`\`\n${logs.slice(-4000)}\n\`\`\`\n</details>`,
    );
    throw new DeployError(
      `${reason}. ${b.oldColor ? `${b.oldColor} keeps serving` : 'Nothing was switched'}; the new container was ${b.restart ? 'stopped again' : 'removed'} (its last log lines are in the log above)`,
    );
  }
  ctx.log.info(
    `${b.color} is healthy after ${formatMs(health.ms)} (${health.probes} probe(s), ${health.last})`,
  );

  // 3. Switch the proxy.
  t0 = Date.now();
  try {
    if (cfg.proxy === 'nginx') {
      await switchNginx(host, cfg, upstreamContent(cfg.bindAddress, port));
      ctx.log.info(`nginx now sends ${cfg.app} to ${b.color} (${cfg.nginxUpstreamFile})`);
    } else if (cfg.proxy === 'command') {
      await runSwitchCommand(host, cfg, {
        app: cfg.app,
        color: b.color,
        port,
        container:
          rt.kind === 'compose'
            ? (await container.inspect()).Name.replace(/^\//, '')
            : containerName(cfg.app, b.color),
      });
      ctx.log.info(`switch-command moved ${cfg.app} to ${b.color}`);
    } else {
      ctx.log.info('proxy: none: no switch (both colors serve until the old one stops; not zero-downtime)');
    }
  } catch (e) {
    await rt.discard(b.color, container, Boolean(b.restart)).catch(() => undefined);
    await appendHistory(host, stateDir, record('failed', (e as Error).message)).catch(() => undefined);
    throw e;
  }
  tick('switch', t0);
  const activeImageId = (await container.inspect()).Image;
  await appendHistory(host, stateDir, record('success'));
  ctx.outputs.set('active-color', b.color);
  if (b.oldColor) ctx.outputs.set('previous-color', b.oldColor);

  // 4. Drain, then stop the old color (kept stopped for an instant rollback, unless told otherwise).
  if (b.oldContainer?.running) {
    t0 = Date.now();
    if (cfg.drainMs > 0) await new Promise((r) => setTimeout(r, cfg.drainMs));
    tick('drain', t0);
    t0 = Date.now();
    await rt.stopOld(b.oldColor!, b.oldContainer, cfg.keepOldContainer);
    tick(cfg.keepOldContainer ? 'stop old' : 'stop and remove old', t0);
    ctx.log.info(
      `${b.oldColor} ${cfg.keepOldContainer ? 'stopped (kept for rollback)' : 'stopped and removed'}`,
    );
  }

  ctx.summary.add(
    b.command === 'rollback' ? 'Rollback' : 'Switch',
    table(
      ['from', 'to', 'build tag', 'health', ...timings.map(([l]) => l)],
      [
        [
          b.oldColor ?? '(nothing)',
          b.color,
          `\`${b.buildTag}\``,
          `${health.last} after ${formatMs(health.ms)} (${health.probes} probes)`,
          ...timings.map(([, ms]) => formatMs(ms)),
        ],
      ],
    ),
  );
  return {
    newColor: b.color,
    ...(b.oldColor ? { oldColor: b.oldColor } : {}),
    activeImageId,
    ...(b.oldContainer ? { rollbackImageId: b.oldContainer.imageId } : {}),
    health,
  };
}

export { other };
