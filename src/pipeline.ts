// The steps of each command, in order. main.ts runs them; each step lives in its own module.
import type { Command } from './config/schema.js';
import type { RunContext } from './context.js';
import { connect, describeDaemon } from './host/index.js';
import { table } from './report/summary.js';
import { adviseStep } from './advise/step.js';
import { buildStep } from './build/step.js';
import { lockStep, rollbackStep, runtimeStep, switchStep } from './deploy/step.js';
import { shipStep } from './ship/step.js';
import { retentionStep } from './retention/step.js';
import { guardStep } from './retention/guard-step.js';

export interface Step {
  readonly name: string;
  /** Runs the step, or with dry-run prints what it would do and changes nothing. */
  run(ctx: RunContext): Promise<void>;
}

export const connectStep: Step = {
  name: 'connect',
  async run(ctx) {
    ctx.host = await connect(ctx.config.target, ctx.log);
    ctx.daemon = await describeDaemon(ctx.host);
    const d = ctx.daemon;
    ctx.log.info(
      `Docker ${d.version} (API ${d.apiVersion}) on ${ctx.host.label}: ${d.platform}, ${d.storageDriver}${d.containerdStore ? ' (containerd image store)' : ''}, root ${d.dockerRootDir}`,
    );
    ctx.summary.add(
      'Host',
      table(
        ['host', 'docker', 'platform', 'storage'],
        [
          [
            ctx.host.label,
            `${d.version} (API ${d.apiVersion})`,
            d.platform,
            d.storageDriver + (d.containerdStore ? ' (containerd)' : ''),
          ],
        ],
      ),
    );
  },
};

export const STEPS: Record<Command, readonly Step[]> = {
  deploy: [
    adviseStep,
    connectStep,
    runtimeStep,
    buildStep,
    lockStep,
    guardStep,
    shipStep,
    switchStep,
    retentionStep,
  ],
  build: [adviseStep, connectStep, buildStep],
  rollback: [connectStep, runtimeStep, lockStep, rollbackStep],
  cleanup: [connectStep, runtimeStep, lockStep, retentionStep],
};
