// The advise step: the Dockerfile advisor and the build-context checks, as annotations on the
// Dockerfile, the `lint-findings` output and a job summary section. It needs no build, so it runs
// in dry-run too. With `lint: error` any finding fails the run (after everything was reported).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../context.js';
import { formatBytes } from '../format.js';
import type { Step } from '../pipeline.js';
import { table } from '../report/summary.js';
import { stageNames } from '../build/dockerfile.js';
import { checkContext, type ContextReport } from './context.js';
import type { Finding } from './finding.js';
import { adviseDockerfile } from './rules.js';

/** A finding and the workspace-relative file its annotation goes on. */
interface Located {
  finding: Finding;
  file: string;
}

const isFile = (p: string) =>
  fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
const isDir = (p: string) =>
  fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

/** Workspace-relative with forward slashes, as annotations want it. */
function relative(workspace: string, p: string): string {
  return (path.relative(workspace, p) || p).split(path.sep).join('/');
}

const oneLine = (s: string) => s.replace(/\s*\r?\n\s*/g, ' ').trim();

export const adviseStep: Step = {
  name: 'advise',
  async run(ctx: RunContext) {
    const { build, command, github } = ctx.config;
    if (build.lint === 'off' || (command !== 'deploy' && command !== 'build')) return;
    const workspace = github.workspace;
    const file = path.resolve(workspace, build.file);
    const contextDir = path.resolve(workspace, build.context);
    // A missing Dockerfile or target stage is the build step's to report, with the input to fix;
    // advice would only get in the way of that message. (A missing context skips the context check.)
    if (!(await isFile(file))) {
      ctx.log.debug(`advise: no Dockerfile at ${file}; the build step reports it`);
      return;
    }
    const text = await fs.readFile(file, 'utf8');
    if (build.target && !stageNames(text).includes(build.target)) {
      ctx.log.debug(`advise: no stage ${build.target} in ${file}; the build step reports it`);
      return;
    }
    const dockerfile = relative(workspace, file);

    const located: Located[] = [];
    try {
      const opts = { buildTagArg: build.buildTagArg, ...(build.target ? { target: build.target } : {}) };
      for (const f of adviseDockerfile(text, opts)) located.push({ finding: f, file: dockerfile });
    } catch (e) {
      // Advice is advice: a Dockerfile the advisor cannot read must not stop the deploy.
      ctx.log.warning(`Dockerfile advice skipped: ${e instanceof Error ? e.message : String(e)}`, {
        file: dockerfile,
      });
    }

    let context: ContextReport | undefined;
    if (await isDir(contextDir)) {
      try {
        context = await checkContext(contextDir, file);
        // The context findings are about what gets sent: they belong on the ignore file when
        // there is one (the fix is a line in it), else on the Dockerfile.
        const on = context.ignoreFile
          ? relative(workspace, path.join(contextDir, context.ignoreFile))
          : dockerfile;
        for (const f of context.findings) located.push({ finding: f, file: on });
      } catch (e) {
        ctx.log.warning(`build-context check skipped: ${e instanceof Error ? e.message : String(e)}`);
      }
    }

    for (const { finding: f, file: on } of located) {
      const props = {
        file: on,
        ...(f.line > 0 ? { startLine: f.line, endLine: Math.max(f.line, f.endLine ?? f.line) } : {}),
        title: `Dockerfile advice: ${f.rule}`,
      };
      const message = oneLine(`${f.title} — ${f.fix}`);
      if (build.lint === 'error') ctx.log.error(message, props);
      else ctx.log.warning(message, props);
    }

    const n = located.length;
    ctx.outputs.set('lint-findings', n);
    ctx.log.info(
      `Dockerfile advice: ${n} finding(s) in ${dockerfile}${context ? `; build context ${formatBytes(context.bytes)} in ${context.files} file(s)` : ''}`,
    );
    ctx.summary.add('Dockerfile advice', adviceMarkdown(located, context, dockerfile));

    if (build.lint === 'error' && n > 0) {
      throw new Error(
        `${n} Dockerfile finding(s) with lint: error (see the annotations); fix them or set lint: warn`,
      );
    }
  },
};

function adviceMarkdown(located: readonly Located[], context: ContextReport | undefined, dockerfile: string) {
  const parts: string[] = [];
  parts.push(
    located.length === 0
      ? `No findings in \`${dockerfile}\`.`
      : table(
          ['line', 'rule', 'finding', 'fix'],
          located.map(({ finding: f, file }) => [
            f.line > 0
              ? f.endLine !== undefined && f.endLine > f.line
                ? `${f.line}–${f.endLine}`
                : String(f.line)
              : file === dockerfile
                ? '—'
                : file,
            f.rule,
            oneLine(f.title),
            oneLine(f.fix),
          ]),
        ),
  );
  if (context) {
    const ignore = context.ignoreFile ? `after \`${context.ignoreFile}\`` : 'no .dockerignore';
    parts.push(`Build context: **${formatBytes(context.bytes)}** in ${context.files} file(s) (${ignore}).`);
    if (context.largest.length > 0) {
      parts.push(
        table(
          ['largest entries', 'size'],
          context.largest.map((e) => [e.kind === 'dir' ? `${e.path}/` : e.path, formatBytes(e.bytes)]),
        ),
      );
    }
  }
  return parts.join('\n\n');
}
