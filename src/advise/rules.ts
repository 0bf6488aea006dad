// The Dockerfile advisor: findings about base images, the build cache, image size and the user
// the app runs as, each one an annotation with a line, a one-line why and a one-line fix.
// PURE: text in, findings out; parsing is dockerfile-ast's (see model.ts). Nothing here does I/O.
import { buildTooling, isCompile, isExpensive, removesPackages } from './commands.js';
import { finding, type AdviseOptions, type Finding } from './finding.js';
import { addLocal, apkNoCache, aptListsNotRemoved, aptUpdateAlone, copyAllBeforeInstall } from './layers.js';
import {
  BUILD_STEPS,
  earlierStage,
  finalStage,
  parseDockerfile,
  resolveFrom,
  summary,
  type Model,
  type Stage,
} from './model.js';
import type { Arg } from 'dockerfile-ast';

export type { AdviseOptions, Finding } from './finding.js';

export interface CacheBust {
  /** 1-based line of the `ARG <buildTagArg>` in the final stage. */
  argLine?: number;
  /** The first instruction the changing value reaches (see bustPoint). */
  firstUseLine?: number;
  /** RUN/COPY/ADD steps from the first use on, that one included: they rerun on every build. */
  stepsAfter: number;
  expensiveAfter: Array<{ line: number; instruction: string }>;
}

type Rule = (m: Model, final: Stage, opts: AdviseOptions) => Finding[];
const RULES: Rule[] = [
  baseLatest,
  cacheBustEarly,
  copyAllBeforeInstall,
  aptListsNotRemoved,
  aptUpdateAlone,
  apkNoCache,
  addLocal,
  singleStageBuildTools,
  noUser,
];

/** Every finding, in line order. Throws when `opts.target` names no stage (the build would fail). */
export function adviseDockerfile(text: string, opts: AdviseOptions): Finding[] {
  const m = parseDockerfile(text);
  const final = finalStage(m, opts.target);
  if (!final) return [];
  return RULES.flatMap((r) => r(m, final, opts)).sort(
    (a, b) => a.line - b.line || a.rule.localeCompare(b.rule),
  );
}

export function cacheBustPoint(text: string, opts: AdviseOptions): CacheBust {
  const m = parseDockerfile(text);
  const final = finalStage(m, opts.target);
  return final ? bustPoint(final, opts.buildTagArg) : { stepsAfter: 0, expensiveAfter: [] };
}

/**
 * Where a stage's build cache starts missing because the build-tag ARG changes every build.
 * The first use is the first instruction after the ARG that references it, or the first RUN
 * after it even without a reference: Docker hands every declared ARG to RUN as an environment
 * variable, so a changed value misses the RUN's cache either way.
 */
function bustPoint(stage: Stage, name: string): CacheBust {
  const at = stage.steps.findIndex(
    (s) => s.keyword === 'ARG' && (s.ins as Arg).getProperties().some((p) => p.getName() === name),
  );
  if (at < 0) return { stepsAfter: 0, expensiveAfter: [] };
  const argLine = stage.steps[at]?.line;
  const rest = stage.steps.slice(at + 1);
  const use = rest.findIndex(
    (s) =>
      s.keyword === 'RUN' || (s.keyword !== 'ARG' && s.ins.getVariables().some((v) => v.getName() === name)),
  );
  if (use < 0) return { argLine, stepsAfter: 0, expensiveAfter: [] };
  const rerun = rest.slice(use).filter((s) => BUILD_STEPS.has(s.keyword));
  return {
    argLine,
    firstUseLine: rest[use]?.line,
    stepsAfter: rerun.length,
    expensiveAfter: rerun
      .filter((s) => s.commands.some(isExpensive))
      .map((s) => ({ line: s.line, instruction: summary(s) })),
  };
}

/**
 * The external base image of the final stage: `FROM <stage>` chains followed, global ARG
 * defaults and the given build args substituted. undefined for scratch. A `$VAR` with no value
 * at all stays as written.
 */
export function finalStageBase(
  text: string,
  opts: AdviseOptions & { buildArgs?: ReadonlyArray<readonly [string, string]> },
): string | undefined {
  const m = parseDockerfile(text);
  let stage = finalStage(m, opts.target);
  while (stage) {
    const { image } = resolveFrom(m, stage, opts.buildArgs);
    if (image.toLowerCase() === 'scratch') return undefined;
    const parent = earlierStage(m, image, stage.index);
    if (!parent) return image;
    stage = parent;
  }
  return undefined;
}

// --- rules about stages --------------------------------------------------------------------

function baseLatest(m: Model): Finding[] {
  return m.stages.flatMap((stage) => {
    const { image, unresolved } = resolveFrom(m, stage);
    // Unknown until build time, scratch, an earlier stage, or pinned by digest: nothing to say.
    if (unresolved || image === '' || image.toLowerCase() === 'scratch' || image.includes('@')) return [];
    if (earlierStage(m, image, stage.index)) return [];
    const last = image.slice(image.lastIndexOf('/') + 1);
    const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
    if (tag !== undefined && tag !== 'latest') return [];
    const name = image.replace(/:latest$/, '');
    return [
      finding(
        'base-latest',
        stage,
        `FROM ${image} ${tag ? 'uses :latest' : 'has no tag (so :latest)'}: the base changes under you, builds are not reproducible and a rollback may not run the same image`,
        `Pin a version tag (e.g. ${name}:<version>) or a digest (${name}@sha256:...)`,
      ),
    ];
  });
}

function cacheBustEarly(m: Model, final: Stage, opts: AdviseOptions): Finding[] {
  // Stages after the final one are never built.
  return m.stages
    .filter((s) => s.index <= final.index)
    .flatMap((stage) => {
      const b = bustPoint(stage, opts.buildTagArg);
      const line = b.argLine ?? b.firstUseLine;
      const last = b.expensiveAfter.at(-1);
      if (line === undefined || !last) return [];
      const at = stage.steps.find((s) => s.line === line) ?? stage;
      const lines = b.expensiveAfter.map((e) => e.line).join(', ');
      return [
        finding(
          'cache-bust-early',
          at,
          `ARG ${opts.buildTagArg} changes on every build and comes before ${b.expensiveAfter.length} expensive step(s) (line ${lines}): every deploy reruns ${b.stepsAfter} build step(s)`,
          `Move \`ARG ${opts.buildTagArg}\` (and its uses) below the last expensive step (line ${last.line})`,
        ),
      ];
    });
}

function singleStageBuildTools(m: Model): Finding[] {
  const stage = m.stages[0];
  if (m.stages.length !== 1 || !stage) return [];
  const runs = stage.steps.filter((s) => s.keyword === 'RUN');
  const build = runs.find((s) => s.commands.some(isCompile));
  if (!build) return [];
  for (const s of runs) {
    const nodeEnv = m.df.resolveVariable('NODE_ENV', s.line - 1);
    // Build packages removed again in the same RUN (`apk del .build-deps`) never reach the image.
    const removed = s.commands.some(removesPackages);
    const tools = s.commands
      .map((c) => buildTooling(c, nodeEnv))
      .find((t) => t !== undefined && !(t.system && removed))?.what;
    if (!tools) continue;
    return [
      finding(
        'single-stage-build-tools',
        s,
        `Single-stage image installs ${tools} and builds (line ${build.line}): the build tooling ships in the runtime image`,
        'Use a multi-stage build: install and build in a builder stage, then COPY --from=builder only the output into a slim runtime stage',
      ),
    ];
  }
  return [];
}

const ROOT = /^(root|0)(:.*)?$/;

function noUser(m: Model, final: Stage): Finding[] {
  // A stage without USER runs as its parent stage's last USER.
  for (let stage: Stage | undefined = final; stage;) {
    const user = stage.steps.filter((s) => s.keyword === 'USER').at(-1);
    if (user) {
      const who = userOf(m, user.ins.getArguments()[0]?.getValue() ?? '', user.line);
      if (!ROOT.test(who)) return [];
      return [
        finding(
          'no-user',
          user,
          `USER ${who} makes the final stage run as root: a compromised app has root in the container`,
          'End the final stage with a non-root user, e.g. `USER node` or `RUN adduser -D app` then `USER app`',
        ),
      ];
    }
    const { image } = resolveFrom(m, stage);
    stage = earlierStage(m, image, stage.index);
    // Images published to run as non-root (distroless :nonroot) need no USER.
    if (!stage && /nonroot/.test(image)) return [];
  }
  return [
    finding(
      'no-user',
      final,
      'The final stage sets no USER, so the app runs as root: a compromised app has root in the container',
      'End the final stage with a non-root user, e.g. `USER node` or `RUN adduser -D app` then `USER app`',
    ),
  ];
}

/** `USER $APP_UID` resolved through ARG/ENV when possible; an unknown value is not root. */
function userOf(m: Model, raw: string, line: number): string {
  const v = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?(:.*)?$/.exec(raw);
  if (!v) return raw;
  return (m.df.resolveVariable(v[1] ?? '', line - 1) ?? raw) + (v[2] ?? '');
}
