// The deploy's host-side steps: take the lock, switch to the new build, or roll back.
import type { RunContext } from '../context.js';
import type { Step } from '../pipeline.js';
import { planDeploy, planRollback, upstreamContent } from './plan.js';
import { containerRuntime } from './runtime/container.js';
import { composeRuntime, prepareCompose } from './runtime/compose.js';
import { appStateDir } from './state.js';
import { acquireLock, bringUpAndSwitch, DeployError, observe, portsView, readEnvFile } from './switch.js';
import { LABEL_APP, LABEL_BUILD_TAG } from '../build/labels.js';

/** How the colors run on the host; with compose, the compose file is checked here, before any change. */
export const runtimeStep: Step = {
  name: 'runtime',
  async run(ctx) {
    const host = ctx.host!;
    const cfg = ctx.config.deploy;
    if (cfg.runtime === 'compose' && cfg.compose) {
      const image = ctx.config.build.tags[0] ?? `${cfg.app}:check`;
      const setup = await prepareCompose(host, cfg.compose, cfg.ports, image);
      ctx.runtime = composeRuntime(host, cfg.compose, setup);
      ctx.log.info(
        `runtime: compose: ${setup.cmd.join(' ')} -f ${cfg.compose.file} -p ${setup.project}; services ${cfg.compose.services.blue} (port ${setup.ports.blue}) and ${cfg.compose.services.green} (port ${setup.ports.green})`,
      );
      return;
    }
    ctx.runtime = containerRuntime(host.docker, cfg, cfg.app, () => readEnvFile(host, cfg.envFile));
  },
};

export const lockStep: Step = {
  name: 'lock',
  async run(ctx) {
    if (ctx.config.dryRun) {
      ctx.stateDir = await appStateDir(ctx.host!, ctx.config.deploy.app);
      ctx.log.info(
        `plan: lock: take ${ctx.stateDir}/lock (waits up to ${ctx.config.deploy.lockTimeoutMs / 1000} s)`,
      );
      return;
    }
    ctx.stateDir = await acquireLock(ctx);
  },
};

function describePlan(ctx: RunContext, lines: string[]): void {
  for (const l of lines) ctx.log.info(`plan: ${l}`);
  ctx.summary.add(
    `${ctx.config.command === 'rollback' ? 'Rollback' : 'Switch'} (plan)`,
    lines.map((l) => `- ${l}`).join('\n'),
  );
}

function proxyPlan(ctx: RunContext, color: string, port: number): string {
  const cfg = ctx.config.deploy;
  if (cfg.proxy === 'nginx')
    return `nginx: write ${cfg.nginxUpstreamFile} → ${upstreamContent(cfg.bindAddress, port).trim().split('\n').pop()} run '${cfg.nginxTestCommand.join(' ')}', then '${cfg.reloadCommand.join(' ')}'`;
  if (cfg.proxy === 'command')
    return `run switch-command '${cfg.switchCommand?.join(' ')}' with BG_COLOR=${color} BG_PORT=${port}`;
  return 'proxy: none: no switch';
}

export const switchStep: Step = {
  name: 'switch',
  async run(ctx) {
    const cfg = ctx.config.deploy;
    // dry-run builds nothing: plan with the reference the build would produce
    const built = ctx.built ?? { ref: ctx.config.build.tags[0]!, id: '' };
    const observed = await observe(ctx, ctx.stateDir!);
    const plan = planDeploy(portsView(ctx), observed);
    const old = plan.oldColor ? observed.containers[plan.oldColor] : undefined;
    if (ctx.config.dryRun) {
      describePlan(ctx, [
        `serving now: ${plan.oldColor ?? 'nothing'} (${plan.why})`,
        ...(plan.replace
          ? [`remove the old ${plan.newColor} container (${plan.replace.buildTag ?? plan.replace.state})`]
          : []),
        `start ${ctx.runtime!.describe(plan.newColor)} from ${built.ref} on port ${ctx.runtime!.port(plan.newColor)}`,
        `health: ${cfg.healthCheck}${cfg.healthCheck === 'http' ? ` ${cfg.healthPath}` : ''} within ${cfg.healthTimeoutMs / 1000} s`,
        proxyPlan(ctx, plan.newColor, ctx.runtime!.port(plan.newColor)),
        ...(old?.running
          ? [
              `drain ${cfg.drainMs / 1000} s, then ${cfg.keepOldContainer ? 'stop (and keep)' : 'stop and remove'} ${old.name}`,
            ]
          : []),
      ]);
      return;
    }
    ctx.log.info(
      `serving now: ${plan.oldColor ?? 'nothing'} (${plan.why}); deploying ${built.ref} to ${plan.newColor}`,
    );
    ctx.switched = await bringUpAndSwitch(ctx, ctx.stateDir!, {
      color: plan.newColor,
      ...(plan.oldColor ? { oldColor: plan.oldColor } : {}),
      image: built.ref,
      ...(plan.replace ? { replace: plan.replace } : {}),
      buildTag: ctx.config.build.buildTag,
      imageId: built.id,
      command: 'deploy',
      ...(old ? { oldContainer: old } : {}),
    });
  },
};

/** Build tags of this app's images on the host → image IDs. */
async function hostBuildTags(ctx: RunContext): Promise<Map<string, string>> {
  const images = await ctx.host!.docker.listImages({
    filters: JSON.stringify({ label: [`${LABEL_APP}=${ctx.config.deploy.app}`] }),
  });
  const map = new Map<string, string>();
  for (const i of images.sort((a, b) => a.Created - b.Created)) {
    const tag = i.Labels?.[LABEL_BUILD_TAG];
    if (tag) map.set(tag, i.Id);
  }
  return map;
}

export const rollbackStep: Step = {
  name: 'rollback',
  async run(ctx) {
    const cfg = ctx.config.deploy;
    const observed = await observe(ctx, ctx.stateDir!);
    const target = planRollback(
      { ...portsView(ctx), rollbackTo: cfg.rollbackTo },
      observed,
      await hostBuildTags(ctx),
    );
    if (target.kind === 'none') throw new DeployError(`rollback: ${target.reason}`);
    const activeColor = target.color === 'blue' ? 'green' : 'blue';
    const active = observed.containers[activeColor];
    const tag =
      target.kind === 'container'
        ? (target.buildTag ?? target.container.imageId.slice(7, 19))
        : target.buildTag;
    if (ctx.config.dryRun) {
      describePlan(ctx, [
        `serving now: ${activeColor} (${active?.buildTag ?? '?'})`,
        target.kind === 'container'
          ? `start the kept ${target.color} container again (${tag})`
          : `start ${ctx.runtime!.describe(target.color)} from build ${tag}`,
        `health: ${cfg.healthCheck} within ${cfg.healthTimeoutMs / 1000} s`,
        proxyPlan(ctx, target.color, ctx.runtime!.port(target.color)),
        `drain ${cfg.drainMs / 1000} s, then stop ${activeColor}`,
      ]);
      return;
    }
    ctx.log.info(
      `rolling ${cfg.app} back from ${activeColor} (${active?.buildTag ?? '?'}) to ${target.color} (${tag})`,
    );
    ctx.outputs.set('build-tag', tag);
    ctx.switched = await bringUpAndSwitch(ctx, ctx.stateDir!, {
      color: target.color,
      oldColor: activeColor,
      ...(target.kind === 'container'
        ? { restart: target.container, imageId: target.container.imageId }
        : { image: target.imageId, imageId: target.imageId }),
      ...(target.kind === 'image' && observed.containers[target.color]
        ? { replace: observed.containers[target.color]! }
        : {}),
      buildTag: tag,
      command: 'rollback',
      ...(active ? { oldContainer: active } : {}),
    });
  },
};
