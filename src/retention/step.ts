// The retention step: after every deploy, and alone with `command: cleanup`.
import type { RunContext } from '../context.js';
import { portsView } from '../deploy/switch.js';
import { activeColor, other } from '../deploy/plan.js';
import { observeContainers } from '../deploy/runtime/container.js';
import { readHistory } from '../deploy/state.js';
import { formatBytes } from '../format.js';
import type { Step } from '../pipeline.js';
import { dfChart, dfTable } from '../report/disk.js';
import { table } from '../report/summary.js';
import { planRetention } from './plan.js';
import { applyPlan, observeForRetention, pruneCacheToBudget, systemDf } from './apply.js';

/** The serving image and the one a rollback needs, as the host shows them. */
async function protectedImages(
  ctx: RunContext,
  history: Awaited<ReturnType<typeof readHistory>>,
): Promise<{ active?: string; rollback?: string }> {
  if (ctx.switched) {
    return {
      active: ctx.switched.activeImageId,
      ...(ctx.switched.rollbackImageId ? { rollback: ctx.switched.rollbackImageId } : {}),
    };
  }
  const cfg = ctx.config.deploy;
  const containers = ctx.runtime
    ? await ctx.runtime.observe()
    : await observeContainers(ctx.host!.docker, cfg.app);
  const upstream =
    cfg.proxy === 'nginx' ? (await ctx.host!.readFile(cfg.nginxUpstreamFile))?.toString('utf8') : undefined;
  const view = activeColor(portsView(ctx), { containers, history, ...(upstream ? { upstream } : {}) });
  if (!view.active) return {};
  const active = containers[view.active]?.imageId;
  const idle = containers[other(view.active)]?.imageId;
  const prev = history.find((h) => h.result === 'success' && h.imageId !== active)?.imageId;
  return { ...(active ? { active } : {}), ...((idle ?? prev) ? { rollback: idle ?? prev } : {}) };
}

export const retentionStep: Step = {
  name: 'retention',
  async run(ctx) {
    const host = ctx.host!;
    const cfg = ctx.config;
    const dockerRoot = ctx.daemon!.dockerRootDir;
    const history = ctx.stateDir ? await readHistory(host, ctx.stateDir) : [];
    const prot = await protectedImages(ctx, history);
    const { input, df: before } = await observeForRetention(host, dockerRoot, {
      app: cfg.deploy.app,
      ...(cfg.build.repository ? { repository: cfg.build.repository.name } : {}),
      rules: cfg.retention,
      history,
      ...(prot.active ? { activeImageId: prot.active } : {}),
      ...(prot.rollback ? { rollbackImageId: prot.rollback } : {}),
    });
    const plan = planRetention(input);
    for (const w of plan.warnings) ctx.log.warning(`retention: ${w}`);
    const rows = plan.deletions.map((d) =>
      d.kind === 'image'
        ? [d.tags.join(', ') || `<none> ${d.id.slice(7, 19)}`, formatBytes(d.frees), d.reason]
        : [`build cache (${d.records} record(s))`, formatBytes(d.frees), d.reason],
    );
    ctx.log.info(
      `retention plan: ${plan.deletions.length} deletion(s), frees ${formatBytes(plan.totalFrees)}; ${plan.kept.length} image(s) kept`,
    );
    if (cfg.dryRun) {
      for (const r of rows) ctx.log.info(`plan: delete ${r[0]}: frees ${r[1]} (${r[2]})`);
      ctx.summary.add(
        'Retention (plan)',
        rows.length ? table(['would delete', 'frees', 'why'], rows) : 'Nothing to delete.',
      );
      return;
    }
    const applied = await ctx.log.group(`Retention on ${host.label}`, async () => {
      const a = await applyPlan(host.docker, plan, (m) => ctx.log.info(m));
      const budget = cfg.guard.buildCacheBudget;
      if (budget !== undefined) {
        const freed = await pruneCacheToBudget(host.docker, ctx.daemon!.apiVersion, budget);
        ctx.log.info(
          `build cache kept under build-cache-budget ${formatBytes(budget)} (${formatBytes(freed)} pruned)`,
        );
      }
      return a;
    });
    const { df: after } = await systemDf(host, dockerRoot);
    const reclaimed = Math.max(0, before.images + before.buildCache - (after.images + after.buildCache));
    ctx.outputs.set(
      'removed-images',
      JSON.stringify(applied.removed.map((r) => ({ id: r.id, tags: r.tags, size: r.size }))),
    );
    ctx.outputs.set('reclaimed-bytes', reclaimed);
    if (after.fs) ctx.outputs.set('disk-free-after', after.fs.freeBytes);
    if (after.fs) ctx.outputs.set('disk-free-after', after.fs.freeBytes);
    ctx.log.info(
      `retention: removed ${applied.removed.length} image(s), reclaimed ${formatBytes(reclaimed)}; Docker data ${formatBytes(before.total)} → ${formatBytes(after.total)}`,
    );
    ctx.retention = { before, after, reclaimed, removed: applied.removed.length };
    const removedTable = applied.removed.length
      ? table(
          ['removed', 'freed', 'why'],
          applied.removed.map((r) => [
            r.tags.join(', ') || `<none> ${r.id.slice(7, 19)}`,
            formatBytes(r.size),
            r.reason,
          ]),
        )
      : 'No image removed.';
    const skipped = applied.skipped.length
      ? '\n\n' +
        table(
          ['kept after all', 'why'],
          applied.skipped.map((s) => [s.tags.join(', ') || s.id.slice(7, 19), s.why]),
        )
      : '';
    ctx.summary.add(
      'Retention',
      `${removedTable}${skipped}\n\n**Reclaimed ${formatBytes(reclaimed)}** (images ${applied.removed.length}, build cache ${formatBytes(applied.cacheReclaimed)}).\n\n${dfTable(before, after)}\n\n${dfChart(before, after)}`,
    );
  },
};
