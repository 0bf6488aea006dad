// The build as a pure value: which builder, which cache, and the exact argv. builder.ts runs it.
import type { BuildConfig, CacheMode, KeyValues } from '../config/schema.js';

export type Builder = { kind: 'buildx'; version: string } | { kind: 'buildkit'; clientVersion: string };

export interface BuilderProbe {
  /** `docker buildx version` output, or undefined when buildx is missing. */
  readonly buildx?: string;
  /** `docker version --format {{.Client.Version}}`. */
  readonly clientVersion?: string;
}

export type Choice<T> = { ok: true; value: T; why: string } | { ok: false; error: string };

/** BuildKit always: buildx where it exists, else a client with BuildKit built in; never the legacy builder. */
export function chooseBuilder(p: BuilderProbe): Choice<Builder> {
  if (p.buildx)
    return {
      ok: true,
      value: { kind: 'buildx', version: p.buildx },
      why: `docker buildx is available (${p.buildx})`,
    };
  if (!p.clientVersion)
    return {
      ok: false,
      error: "no docker client found on PATH: install Docker's CLI with the buildx plugin",
    };
  const major = Number(p.clientVersion.split('.')[0]);
  // Clients before 23.0 embed BuildKit behind DOCKER_BUILDKIT=1; from 23.0 that path needs buildx.
  if (Number.isFinite(major) && major < 23) {
    return {
      ok: true,
      value: { kind: 'buildkit', clientVersion: p.clientVersion },
      why: `docker buildx is missing; docker ${p.clientVersion} builds with its built-in BuildKit (DOCKER_BUILDKIT=1)`,
    };
  }
  return {
    ok: false,
    error: `docker ${p.clientVersion} has no buildx plugin, and without it only the legacy builder is left: install docker-buildx-plugin (or use docker/setup-buildx-action)`,
  };
}

export interface CacheEnv {
  /** ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are set (a GitHub-hosted job). */
  readonly ghaAvailable: boolean;
  /** Directory for a buildx local cache (restored/saved with @actions/cache). */
  readonly localDir: string;
  /** A previous image of this app on the builder, for inline cache. */
  readonly previousImage?: string;
  readonly scope: string;
}

export interface ResolvedCache {
  readonly mode: Exclude<CacheMode, 'auto'> | 'daemon';
  readonly args: readonly string[];
  readonly why: string;
  /** With `local`: buildx writes here; the step then replaces localDir with it (rotation). */
  readonly newLocalDir?: string;
}

export function resolveCache(mode: CacheMode, builder: Builder, env: CacheEnv): Choice<ResolvedCache> {
  const buildx = builder.kind === 'buildx';
  const gha = (): ResolvedCache => ({
    mode: 'gha',
    args: [
      '--cache-from',
      `type=gha,scope=${env.scope}`,
      '--cache-to',
      `type=gha,scope=${env.scope},mode=max`,
    ],
    why: 'GitHub Actions cache (buildx type=gha)',
  });
  const local = (): ResolvedCache => {
    const newLocalDir = `${env.localDir}-new`;
    return {
      mode: 'local',
      args: [
        '--cache-from',
        `type=local,src=${env.localDir}`,
        '--cache-to',
        `type=local,dest=${newLocalDir},mode=max`,
      ],
      why: `buildx local cache in ${env.localDir}, kept across runs with @actions/cache`,
      newLocalDir,
    };
  };
  const inline = (): ResolvedCache => ({
    mode: 'inline',
    args: [
      '--build-arg',
      'BUILDKIT_INLINE_CACHE=1',
      ...(env.previousImage ? ['--cache-from', env.previousImage] : []),
    ],
    why: env.previousImage
      ? `inline cache metadata, reusing ${env.previousImage}`
      : 'inline cache metadata (no previous image to reuse yet)',
  });
  switch (mode) {
    case 'off':
      return { ok: true, value: { mode: 'off', args: [], why: 'cache: off' }, why: 'cache: off' };
    case 'gha':
      if (!buildx)
        return {
          ok: false,
          error:
            'cache: gha needs docker buildx (the built-in BuildKit of older clients has no gha exporter)',
        };
      if (!env.ghaAvailable)
        return {
          ok: false,
          error:
            'cache: gha needs the GitHub Actions cache service (ACTIONS_RUNTIME_TOKEN), which this runner does not provide',
        };
      return { ok: true, value: gha(), why: gha().why };
    case 'local':
      if (!buildx)
        return { ok: false, error: 'cache: local needs docker buildx (for --cache-to type=local)' };
      return { ok: true, value: local(), why: local().why };
    case 'inline':
      return { ok: true, value: inline(), why: inline().why };
    case 'auto': {
      if (buildx && env.ghaAvailable) return { ok: true, value: gha(), why: `auto → ${gha().why}` };
      if (buildx) return { ok: true, value: local(), why: `auto → ${local().why}` };
      // The built-in BuildKit keeps its cache in the builder daemon, which persists on this runner.
      const daemon: ResolvedCache = {
        mode: 'daemon',
        args: [],
        why: "the builder daemon's own BuildKit cache (it persists on this runner)",
      };
      return { ok: true, value: daemon, why: `auto → ${daemon.why}` };
    }
  }
}

export interface BuildInvocation {
  readonly builder: Builder;
  readonly build: BuildConfig;
  readonly platforms: readonly string[];
  readonly labels: KeyValues;
  readonly cache: ResolvedCache;
  readonly iidFile: string;
  readonly metadataFile: string;
}

/** The argv after `docker` (and the env it needs). Values are separate argv items: no shell. */
export function buildCommand(inv: BuildInvocation): { args: string[]; env: Record<string, string> } {
  const b = inv.build;
  const args: string[] = inv.builder.kind === 'buildx' ? ['buildx', 'build'] : ['build'];
  args.push('--progress', 'plain', '--file', b.file, '--iidfile', inv.iidFile);
  for (const t of b.tags) args.push('--tag', t);
  for (const [k, v] of b.buildArgs) args.push('--build-arg', `${k}=${v}`);
  args.push('--build-arg', `${b.buildTagArg}=${b.buildTag}`);
  for (const [k, v] of inv.labels) args.push('--label', `${k}=${v}`);
  if (inv.platforms.length > 0) args.push('--platform', inv.platforms.join(','));
  if (b.target) args.push('--target', b.target);
  if (b.network) args.push('--network', b.network);
  if (b.noCache) args.push('--no-cache');
  args.push(...inv.cache.args);
  if (inv.builder.kind === 'buildx') {
    args.push('--metadata-file', inv.metadataFile);
    args.push(b.push ? '--push' : '--load');
  }
  args.push(b.context);
  return { args, env: inv.builder.kind === 'buildkit' ? { DOCKER_BUILDKIT: '1' } : {} };
}
