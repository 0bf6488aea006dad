// The pre-flight disk guard, after the build and before anything is sent or started: measure the
// free space under the host's Docker root, estimate what this deploy writes, make room with the
// retention rules if short, or stop before any change with what uses the disk and what would free it.
import { servingImage } from '../deploy/serving.js';
import { readHistory } from '../deploy/state.js';
import { formatBytes } from '../format.js';
import { fsUsage } from '../host/disk.js';
import type { Host } from '../host/index.js';
import type { Step } from '../pipeline.js';
import { table } from '../report/summary.js';
import { shipPlan } from '../ship/step.js';
import { applyPlan, observeForRetention, pruneCacheToBudget, type DfSnapshot } from './apply.js';
import { afterRetention, decide, deployWrites, minFreeBytes, refusal, type Alternative } from './guard.js';
import { planRetention, type RetentionInput } from './plan.js';

export class GuardError extends Error {}

function dfRows(df: DfSnapshot): Array<Array<string>> {
  return [
    ['Images', formatBytes(df.images), formatBytes(df.imagesReclaimable)],
    ['Containers', formatBytes(df.containers), ''],
    ['Local volumes', formatBytes(df.volumes), ''],
    ['Build cache', formatBytes(df.buildCache), formatBytes(df.buildCacheReclaimable)],
  ];
}

/** What other retention settings would free, so the refusal can say which input to change. */
function alternatives(input: RetentionInput): Alternative[] {
  const rules = input.rules;
  const variants: Array<[string, RetentionInput['rules']]> = [
    ['prune-build-cache: all', { ...rules, pruneBuildCache: 'all' }],
    ['keep-images: 1', { ...rules, keepImages: 1 }],
    ['prune-scope: all', { ...rules, pruneScope: 'all' }],
    ['protect-labels: (none)', { ...rules, protectLabels: [] }],
  ];
  return variants.map(([name, r]) => ({
    input: name,
    frees: planRetention({ ...input, rules: r }).totalFrees,
  }));
}

async function measure(host: Host, root: string) {
  const fs = await fsUsage(host, root);
  if (!fs) throw new GuardError(`cannot read the free space under ${root} on ${host.label} (df failed)`);
  return fs;
}

export const guardStep: Step = {
  name: 'guard',
  async run(ctx) {
    const host = ctx.host!;
    const root = ctx.daemon!.dockerRootDir;
    const g = ctx.config.guard;
    const before = await measure(host, root);
    ctx.outputs.set('disk-free-before', before.freeBytes);
    const lacking = ctx.built ? ((await shipPlan(ctx)).plan.bytesToSend ?? 0) : 0;
    const writes = ctx.config.ship.transfer === 'none' ? deployWrites(0) : deployWrites(lacking);
    const d = decide({
      freeBytes: before.freeBytes,
      totalBytes: before.totalBytes,
      writes,
      minFree: g.minFreeSpace,
    });
    const minFree = minFreeBytes(g.minFreeSpace, before.totalBytes);
    const line = `disk: ${formatBytes(before.freeBytes)} free of ${formatBytes(before.totalBytes)} under ${before.path}; this deploy writes about ${formatBytes(writes)} and min-free-space is ${formatBytes(minFree)}`;
    ctx.log.info(line);
    if (d.action === 'proceed') {
      ctx.summary.add('Disk guard', `${line}: **enough room** (${formatBytes(d.spare)} to spare).`);
      return;
    }
    ctx.log.info(`short by ${formatBytes(d.shortBy)}: planning retention to make room first`);
    const history = ctx.stateDir ? await readHistory(host, ctx.stateDir) : [];
    const serving = await servingImage(ctx).catch(() => undefined);
    const { input, df } = await observeForRetention(host, root, {
      app: ctx.config.deploy.app,
      ...(ctx.config.build.repository ? { repository: ctx.config.build.repository.name } : {}),
      rules: ctx.config.retention,
      history,
      ...(serving ? { activeImageId: serving.id } : {}),
      requiredFreeBytes: d.required,
    });
    const plan = planRetention(input);
    let budgetFrees = 0;
    if (g.buildCacheBudget !== undefined) budgetFrees = Math.max(0, df.buildCache - g.buildCacheBudget);
    const frees = plan.totalFrees + budgetFrees;
    if (afterRetention(d.required, before.freeBytes, frees) === 'refuse' || ctx.config.dryRun) {
      const msg = refusal({
        host: host.label,
        required: d.required,
        writes,
        minFree,
        freeBytes: before.freeBytes,
        retentionFrees: frees,
        alternatives: alternatives(input),
      });
      ctx.summary.add(
        'Disk guard',
        `**${ctx.config.dryRun ? 'Would need room' : 'Refused'}**: ${msg}\n\n` +
          table(['docker system df', 'size', 'reclaimable'], dfRows(df)) +
          '\n\n' +
          table(
            ['this input', 'would free'],
            alternatives(input).map((a) => [`\`${a.input}\``, formatBytes(a.frees)]),
          ),
      );
      if (ctx.config.dryRun) {
        ctx.log.info(
          `plan: guard: retention would free ${formatBytes(frees)} before shipping (${plan.deletions.length} deletion(s))`,
        );
        return;
      }
      throw new GuardError(msg);
    }
    const applied = await ctx.log.group(`Making room on ${host.label} before shipping`, async () => {
      const a = await applyPlan(host.docker, plan, (m) => ctx.log.info(m));
      if (g.buildCacheBudget !== undefined)
        await pruneCacheToBudget(host.docker, ctx.daemon!.apiVersion, g.buildCacheBudget);
      return a;
    });
    const after = await measure(host, root);
    ctx.log.info(
      `made room: ${applied.removed.length} image(s) removed, ${formatBytes(after.freeBytes - before.freeBytes)} freed; ${formatBytes(after.freeBytes)} free now`,
    );
    ctx.summary.add(
      'Disk guard',
      `${line}: short by ${formatBytes(d.shortBy)}, so retention ran first: ${applied.removed.length} image(s) removed, ${formatBytes(after.freeBytes - before.freeBytes)} freed.\n\n` +
        (applied.removed.length
          ? table(
              ['removed', 'freed', 'why'],
              applied.removed.map((r) => [
                r.tags.join(', ') || r.id.slice(7, 19),
                formatBytes(r.size),
                r.reason,
              ]),
            )
          : ''),
    );
    if (after.freeBytes < d.required) {
      throw new GuardError(
        `not enough disk on ${host.label} even after retention freed ${formatBytes(after.freeBytes - before.freeBytes)}: needs ${formatBytes(d.required)} free, has ${formatBytes(after.freeBytes)}. Nothing of this deploy was sent or started`,
      );
    }
  },
};
