// The build step: BuildKit build stamped with the build tag, for the host's platform, labelled,
// cached, and reported (steps run vs cached, time, size).
import * as cache from '@actions/cache';
import Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { finalStageBase } from '../advise/rules.js';
import { stageNames } from './dockerfile.js';
import { fsUsage } from '../host/disk.js';
import { localHost } from '../host/local.js';
import { minFreeBytes } from '../retention/guard.js';
import { pruneCacheToBudget } from '../retention/apply.js';
import type { RunContext } from '../context.js';
import { formatBytes, formatMs } from '../log.js';
import type { Step } from '../pipeline.js';
import { formatChange, imageReport } from '../report/image.js';
import { table } from '../report/summary.js';
import { servingImage } from '../deploy/serving.js';
import { docker, probeBuilder } from './builder.js';
import { imageLabels, LABEL_APP } from './labels.js';
import { buildCommand, chooseBuilder, resolveCache } from './plan.js';
import { summarizeProgress } from './progress.js';

export interface BuiltImage {
  readonly ref: string;
  readonly id: string;
  readonly size: number;
  readonly platform: string;
  readonly diffIds: readonly string[];
  readonly digest?: string;
  readonly dockerfile: string;
}

export class BuildError extends Error {}

/** The runner's own daemon (DOCKER_HOST as the docker CLI sees it). */
export const runnerDocker = () => new Docker();

function ghaCacheAvailable(): boolean {
  return Boolean(
    process.env.ACTIONS_RUNTIME_TOKEN && (process.env.ACTIONS_CACHE_URL || process.env.ACTIONS_RESULTS_URL),
  );
}

export async function previousImageOf(app: string, exclude: string): Promise<string | undefined> {
  const images = await runnerDocker().listImages({
    filters: JSON.stringify({ label: [`${LABEL_APP}=${app}`] }),
  });
  const tagged = images
    .filter((i) => (i.RepoTags ?? []).some((t) => t !== '<none>:<none>' && t !== exclude))
    .sort((a, b) => b.Created - a.Created);
  return tagged[0]?.RepoTags?.find((t) => t !== '<none>:<none>');
}

export const buildStep: Step = {
  name: 'build',
  async run(ctx: RunContext) {
    const { build, deploy, github } = ctx.config;
    const workspace = github.workspace;
    const contextDir = path.resolve(workspace, build.context);
    const file = path.resolve(workspace, build.file);
    if (!existsSync(contextDir))
      throw new BuildError(
        `input 'context': ${build.context} does not exist in the workspace (${workspace})`,
      );
    if (!existsSync(file))
      throw new BuildError(
        `input 'file': no Dockerfile at ${path.relative(workspace, file) || file}; set 'file' or 'context'`,
      );
    const text = await fs.readFile(file, 'utf8');
    const opts = { buildTagArg: build.buildTagArg, ...(build.target ? { target: build.target } : {}) };
    if (build.target && !stageNames(text).includes(build.target)) {
      const names = stageNames(text);
      throw new BuildError(
        `input 'target': no stage named ${build.target} in ${path.basename(file)} (stages: ${names.length ? names.join(', ') : 'none are named; add AS <name> to a FROM'})`,
      );
    }

    const choice = chooseBuilder(await probeBuilder());
    if (!choice.ok) throw new BuildError(choice.error);
    const builder = choice.value;
    ctx.log.info(`builder: ${choice.why}`);

    const platforms = build.platforms === 'auto' ? [ctx.daemon!.platform] : [...build.platforms];
    const why = build.platforms === 'auto' ? ` (auto: the platform of ${ctx.host!.label})` : '';
    ctx.log.info(`platform: ${platforms.join(', ')}${why}`);

    const ref = build.tags[0]!;
    const scope = `${deploy.app}-${platforms.join('-').replace(/\//g, '_')}`;
    const localDir = path.join(github.runnerTemp, 'bluegreen-buildx-cache');
    const prev =
      build.cache === 'inline' || build.cache === 'auto'
        ? await previousImageOf(deploy.app, ref).catch(() => undefined)
        : undefined;
    const cacheChoice = resolveCache(build.cache, builder, {
      ghaAvailable: ghaCacheAvailable(),
      localDir,
      scope,
      ...(prev ? { previousImage: prev } : {}),
    });
    if (!cacheChoice.ok) throw new BuildError(`input 'cache': ${cacheChoice.error}`);
    const cacheCfg = cacheChoice.value;
    ctx.log.info(`cache: ${cacheChoice.why}`);

    const base = finalStageBase(text, { ...opts, buildArgs: build.buildArgs });
    const labels = imageLabels(build, deploy.app, github, new Date(), base);
    const tmp = await fs.mkdtemp(path.join(github.runnerTemp, 'bluegreen-build-'));
    const iidFile = path.join(tmp, 'iid');
    const metadataFile = path.join(tmp, 'metadata.json');
    const cmd = buildCommand({
      builder,
      build: { ...build, context: contextDir, file },
      platforms,
      labels,
      cache: cacheCfg,
      iidFile,
      metadataFile,
    });

    if (ctx.config.dryRun) {
      ctx.log.info(
        `plan: build: docker ${cmd.args.join(' ')}${
          Object.keys(cmd.env).length
            ? ` (env ${Object.entries(cmd.env)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')})`
            : ''
        }`,
      );
      ctx.summary.add('Build (plan)', '```\ndocker ' + cmd.args.join(' ') + '\n```');
      return;
    }

    if (cacheCfg.mode === 'local' && cache.isFeatureAvailable()) {
      const key = cacheKey(scope, text);
      const hit = await cache
        .restoreCache([localDir], key, [`bluegreen-buildx-${scope}-`])
        .catch((e: Error) => {
          ctx.log.warning(`build cache restore failed, building without it: ${e.message}`);
          return undefined;
        });
      ctx.log.info(hit ? `restored build cache ${hit}` : 'no build cache to restore');
    }

    await checkRunnerDisk(ctx);
    const t0 = Date.now();
    const result = await ctx.log.group(`Build ${ref} for ${platforms.join(', ')}`, () =>
      docker(cmd.args, { env: cmd.env, silent: false, cwd: contextDir }),
    );
    const seconds = (Date.now() - t0) / 1000;
    const progress = summarizeProgress(result.stderr + '\n' + result.stdout);
    if (result.code !== 0) {
      if (progress.failed) {
        const last = progress.failed.lastLines
          .map((l) => l.trim())
          .filter(Boolean)
          .slice(-5)
          .join(' | ');
        throw new BuildError(
          `step ${progress.failed.step} failed: ${progress.failed.error}${last ? `; last output: ${last}` : ''}`,
        );
      }
      const lastErr = (
        result.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${result.code}`
      ).replace(/^ERROR:?\s*/, '');
      throw new BuildError(`docker build failed: ${lastErr}`);
    }

    if (cacheCfg.mode === 'local' && cacheCfg.newLocalDir) {
      // Rotate: replace the old cache directory with what this build wrote, so it cannot grow forever.
      await fs.rm(localDir, { recursive: true, force: true });
      await fs.rename(cacheCfg.newLocalDir, localDir).catch(() => undefined);
      if (cache.isFeatureAvailable()) {
        await cache
          .saveCache([localDir], cacheKey(scope, text) + '-' + github.runId)
          .catch((e: Error) => ctx.log.warning(`build cache save failed: ${e.message}`));
      }
    }

    const budget = ctx.config.guard.buildCacheBudget;
    if (budget !== undefined) {
      const v = await runnerDocker().version();
      const freed = await pruneCacheToBudget(runnerDocker(), v.ApiVersion, budget);
      ctx.log.info(
        `builder's build cache kept under build-cache-budget ${formatBytes(budget)} (${formatBytes(freed)} pruned)`,
      );
    }

    let digest: string | undefined;
    if (builder.kind === 'buildx' && build.push) {
      const meta = JSON.parse(await fs.readFile(metadataFile, 'utf8').catch(() => '{}')) as Record<
        string,
        string
      >;
      digest = meta['containerimage.digest'];
    }
    if (build.push && builder.kind === 'buildkit') digest = await pushTags(ctx, build.tags);
    if (digest) ctx.outputs.set('digest', digest);

    const id = (await fs.readFile(iidFile, 'utf8')).trim();
    let built: BuiltImage;
    if (!build.push || builder.kind === 'buildkit') {
      const info = await runnerDocker().getImage(id).inspect();
      const platform = `${info.Os}/${info.Architecture}${(info as { Variant?: string }).Variant ? '/' + (info as { Variant?: string }).Variant : ''}`;
      built = {
        ref,
        id,
        size: info.Size,
        platform,
        diffIds: info.RootFS.Layers ?? [],
        dockerfile: file,
        ...(digest ? { digest } : {}),
      };
    } else {
      built = {
        ref,
        id,
        size: 0,
        platform: platforms.join(','),
        diffIds: [],
        dockerfile: file,
        ...(digest ? { digest } : {}),
      };
    }
    ctx.built = built;
    ctx.outputs.set('image', ref);
    ctx.outputs.set('image-id', id);
    ctx.outputs.set('image-size', built.size);
    ctx.outputs.set('platform', built.platform);
    const steps = progress.steps.length;
    const ran = progress.steps.filter((s) => !s.cached).map((s) => s.name.replace(/\s+/g, ' ').slice(0, 80));
    ctx.log.info(`steps run: ${ran.length ? ran.join(' · ') : 'none (all cached)'}`);
    ctx.log.info(
      `built ${ref} (${id.slice(0, 19)}) for ${built.platform} in ${formatMs(seconds * 1000)}: ${formatBytes(built.size)}, ${progress.executed} of ${steps} step(s) run, ${progress.cached} cached`,
    );
    ctx.summary.add(
      'Build',
      table(
        ['image', 'platform', 'size', 'steps run / cached', 'time', 'builder', 'cache'],
        [
          [
            `\`${ref}\``,
            built.platform,
            formatBytes(built.size),
            `${progress.executed} / ${progress.cached}`,
            formatMs(seconds * 1000),
            builder.kind === 'buildx' ? 'buildx' : 'BuildKit (built-in)',
            cacheCfg.mode,
          ],
        ],
      ),
    );
    // The image report (layer table, wasted bytes, size change) before the size gate that points at it.
    if (!build.push || builder.kind === 'buildkit') {
      const serving =
        ctx.config.command === 'deploy' ? await servingImage(ctx).catch(() => undefined) : undefined;
      await imageReport({
        ref,
        id,
        size: built.size,
        save: () => runnerDocker().getImage(id).get(),
        ...(serving ? { serving } : {}),
      }).then(
        (report) => {
          ctx.summary.add('Image', report.markdown);
          ctx.log.info(
            `image: ${formatBytes(report.totalSize)}${report.sizeChange !== undefined && serving ? `, ${formatChange(report.sizeChange, serving.size)} vs ${serving.ref} (serving)` : ''}; ${formatBytes(report.waste.wastedBytes)} wasted by files later layers overwrite or delete`,
          );
        },
        (e: Error) => ctx.log.warning(`image report skipped: ${e.message}`),
      );
    }
    if (build.maxImageSize !== undefined && built.size > build.maxImageSize) {
      throw new BuildError(
        `input 'max-image-size': ${ref} is ${formatBytes(built.size)}, over the limit of ${formatBytes(build.maxImageSize)}; see the layer table in the job summary for what grew`,
      );
    }
  },
};

/** The runner's own disk, before it fills up mid-build: prune to the budget, or say it is short. */
async function checkRunnerDisk(ctx: RunContext): Promise<void> {
  const info = (await runnerDocker().info()) as { DockerRootDir?: string };
  const local = localHost();
  const root = info.DockerRootDir ?? '/var/lib/docker';
  let fs = await fsUsage(local, root);
  if (!fs) return;
  const need = minFreeBytes(ctx.config.guard.minFreeSpace, fs.totalBytes);
  const budget = ctx.config.guard.buildCacheBudget;
  if (fs.freeBytes >= need) return;
  if (budget !== undefined) {
    const v = await runnerDocker().version();
    await pruneCacheToBudget(runnerDocker(), v.ApiVersion, budget);
    fs = (await fsUsage(local, root)) ?? fs;
    if (fs.freeBytes >= need) return;
  }
  throw new BuildError(
    `the runner itself is short of disk: ${formatBytes(fs.freeBytes)} free under ${fs.path} (min-free-space ${formatBytes(need)}); set build-cache-budget or free the runner's disk (docker builder prune, docker image prune)`,
  );
}

function cacheKey(scope: string, dockerfile: string): string {
  return `bluegreen-buildx-${scope}-${createHash('sha256').update(dockerfile).digest('hex').slice(0, 16)}`;
}

async function pushTags(ctx: RunContext, tags: readonly string[]): Promise<string | undefined> {
  let digest: string | undefined;
  for (const tag of tags) {
    const r = await ctx.log.group(`Push ${tag}`, () => docker(['push', tag], { silent: false }));
    if (r.code !== 0)
      throw new BuildError(
        `push of ${tag} failed: ${r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}`}`,
      );
    digest ??= /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
  }
  return digest;
}
