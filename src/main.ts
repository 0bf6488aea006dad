// The main step: config → the command's steps → outputs and summary. No decisions live here.
import * as core from '@actions/core';
import { readConfig } from './config/inputs.js';
import { coreOutputs, coreState, type RunContext } from './context.js';
import { coreLogger, formatMs } from './log.js';
import { STEPS } from './pipeline.js';
import { Summary } from './report/summary.js';

export async function run(): Promise<void> {
  const summary = new Summary();
  let ctx: RunContext | undefined;
  let current = 'inputs';
  try {
    const parsed = readConfig();
    if (!parsed.ok) {
      for (const e of parsed.errors) core.error(e);
      const names = parsed.errors.map((e) => e.slice(0, e.indexOf(':'))).join(', ');
      summary.setHeadline(
        `**Failed: invalid inputs** (nothing was built or touched)\n\n${parsed.errors.map((e) => `- ${e}`).join('\n')}`,
      );
      core.setFailed(`${parsed.errors.length} invalid input(s): ${names}. Nothing was built or touched.`);
      return;
    }
    for (const w of parsed.warnings) core.warning(w);
    const config = parsed.config;
    ctx = { config, log: coreLogger, summary, outputs: coreOutputs(), state: coreState };
    ctx.outputs.set('build-tag', config.build.buildTag);
    const steps = STEPS[config.command];
    core.info(
      `${config.command}${config.dryRun ? ' (dry-run: nothing will change)' : ''}: ${steps.map((s) => s.name).join(' → ')}`,
    );
    for (const step of steps) {
      current = step.name;
      const t0 = Date.now();
      await step.run(ctx);
      core.debug(`${step.name} took ${formatMs(Date.now() - t0)}`);
    }
    summary.setHeadline(
      `**${config.command}${config.dryRun ? ' (dry-run)' : ''} succeeded** · build tag \`${config.build.buildTag}\``,
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    summary.setHeadline(`**Failed at step ${current}:** ${msg}`);
    core.setFailed(`${current}: ${msg}`);
  } finally {
    if (ctx?.lock) {
      await ctx.lock
        .release()
        .catch((e: Error) =>
          core.warning(
            `could not release the deploy lock ${ctx?.lock?.dir}: ${e.message} (the post step retries)`,
          ),
        );
      if (!ctx.lock.isHeld) core.saveState('lock', '');
    }
    await ctx?.host?.close().catch(() => undefined);
    await summary.write().catch((e: Error) => core.warning(`could not write the job summary: ${e.message}`));
  }
}
