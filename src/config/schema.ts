// The one typed, frozen Config every step reads. parse.ts is the only place that builds it.
import type { KnownHost } from './known-hosts.js';
import type { Repository, RestartPolicy, SizeOrPercent, VolumeSpec } from './rules.js';

export const COMMANDS = ['deploy', 'build', 'rollback', 'cleanup'] as const;
export type Command = (typeof COMMANDS)[number];
export const CACHE_MODES = ['auto', 'gha', 'local', 'inline', 'off'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];
export const LINT_MODES = ['warn', 'error', 'off'] as const;
export type LintMode = (typeof LINT_MODES)[number];
export const TRANSFERS = ['auto', 'ssh', 'ssh-full', 'registry', 'none'] as const;
export type Transfer = Exclude<(typeof TRANSFERS)[number], 'auto'>;
export const HEALTH_CHECKS = ['http', 'docker', 'none'] as const;
export type HealthCheck = (typeof HEALTH_CHECKS)[number];
export const PROXIES = ['nginx', 'command', 'none'] as const;
export type Proxy = (typeof PROXIES)[number];
export const PRUNE_SCOPES = ['app', 'all'] as const;
export const RUNTIMES = ['container', 'compose'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];

export interface ComposeConfig {
  /** The compose file on the host. */
  readonly file: string;
  readonly project?: string;
  readonly services: { readonly blue: string; readonly green: string };
  /** The variable the compose file reads the image from (`image: ${IMAGE}`). */
  readonly imageEnv: string;
}
export type PruneScope = (typeof PRUNE_SCOPES)[number];

export type KeyValues = ReadonlyArray<readonly [string, string]>;

/** Variables a switch-command may reference; set when it runs. */
export const SWITCH_VARS = ['BG_APP', 'BG_COLOR', 'BG_PORT', 'BG_CONTAINER'] as const;

export interface GithubContext {
  readonly sha?: string;
  readonly runId?: string;
  readonly runAttempt?: string;
  readonly actor?: string;
  readonly repository?: string;
  readonly serverUrl: string;
  readonly workspace: string;
  readonly runnerTemp: string;
  readonly workflow?: string;
  readonly ref?: string;
}

export interface BuildConfig {
  readonly context: string;
  readonly file: string;
  readonly repository?: Repository;
  /** Every reference the build is tagged with; the first is `<image>:<build-tag>`. */
  readonly tags: readonly string[];
  readonly platforms: 'auto' | readonly string[];
  readonly buildArgs: KeyValues;
  readonly buildTag: string;
  readonly buildTagArg: string;
  readonly target?: string;
  readonly labels: KeyValues;
  readonly cache: CacheMode;
  readonly noCache: boolean;
  readonly network?: string;
  readonly push: boolean;
  readonly lint: LintMode;
  readonly maxImageSize?: number;
}

export interface SshTarget {
  readonly kind: 'ssh';
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly privateKey: string;
  readonly passphrase?: string;
  readonly knownHosts: readonly KnownHost[];
  readonly fingerprint?: string;
  readonly insecureSkipHostKeyCheck: boolean;
  readonly timeoutMs: number;
}
export interface LocalTarget {
  readonly kind: 'local';
  readonly timeoutMs: number;
}
export type Target = SshTarget | LocalTarget;

export interface ShipConfig {
  readonly transfer: Transfer;
  readonly registryAuth?: { readonly username: string; readonly password: string };
}

export interface DeployConfig {
  readonly app: string;
  readonly ports: { readonly blue: number; readonly green: number };
  readonly containerPort: number;
  readonly bindAddress: string;
  readonly network?: string;
  readonly env: KeyValues;
  readonly envFile?: string;
  readonly volumes: readonly VolumeSpec[];
  readonly restart: RestartPolicy;
  readonly healthCheck: HealthCheck;
  readonly healthPath: string;
  readonly healthTimeoutMs: number;
  readonly proxy: Proxy;
  readonly nginxUpstreamFile: string;
  readonly nginxTestCommand: readonly string[];
  readonly reloadCommand: readonly string[];
  readonly switchCommand?: readonly string[];
  readonly drainMs: number;
  readonly keepOldContainer: boolean;
  readonly lockTimeoutMs: number;
  readonly rollbackTo: 'previous' | { readonly buildTag: string };
  readonly runtime: RuntimeKind;
  readonly compose?: ComposeConfig;
}

export type PruneBuildCache = false | 'all' | { readonly olderThanMs: number };

export interface RetentionConfig {
  readonly keepImages: number;
  readonly pruneDangling: boolean;
  readonly pruneBuildCache: PruneBuildCache;
  readonly pruneScope: PruneScope;
  readonly maxDiskUsage?: SizeOrPercent;
  readonly protectLabels: KeyValues;
}

export interface GuardConfig {
  /** Free space that must remain after the deploy writes its image (the pre-flight guard). */
  readonly minFreeSpace: SizeOrPercent;
  /** Build cache kept under this many bytes on the builder and on the host. */
  readonly buildCacheBudget?: number;
}

export interface Config {
  readonly command: Command;
  readonly dryRun: boolean;
  readonly build: BuildConfig;
  readonly target: Target;
  readonly ship: ShipConfig;
  readonly deploy: DeployConfig;
  readonly retention: RetentionConfig;
  readonly guard: GuardConfig;
  readonly github: GithubContext;
}

/** Inputs whose values are secrets: masked before anything is logged, never echoed in errors. */
export const SECRET_INPUTS = [
  'ssh-key',
  'ssh-key-passphrase',
  'registry-username',
  'registry-password',
] as const;
