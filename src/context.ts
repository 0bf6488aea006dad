// What the steps of one run share: the config, the side-effect interfaces, and each step's result.
import * as core from '@actions/core';
import type { BuiltImage } from './build/step.js';
import type { Config } from './config/schema.js';
import type { DeployLock } from './deploy/lock.js';
import type { SwitchResult } from './deploy/switch.js';
import type { DfSnapshot } from './retention/apply.js';
import type { ShipPlan } from './ship/plan.js';
import type { Runtime } from './deploy/runtime/runtime.js';
import type { DaemonInfo, Host } from './host/index.js';
import type { Logger } from './log.js';
import type { Summary } from './report/summary.js';

export const OUTPUT_NAMES = [
  'build-tag',
  'image',
  'image-id',
  'digest',
  'image-size',
  'platform',
  'bytes-sent',
  'layers-sent',
  'layers-skipped',
  'active-color',
  'previous-color',
  'removed-images',
  'reclaimed-bytes',
  'lint-findings',
  'disk-free-before',
  'disk-free-after',
] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface Outputs {
  set(name: OutputName, value: string | number): void;
  get(name: OutputName): string | undefined;
}

export function coreOutputs(): Outputs {
  const values = new Map<OutputName, string>();
  return {
    set(name, value) {
      values.set(name, String(value));
      core.setOutput(name, String(value));
    },
    get: (name) => values.get(name),
  };
}

/** State handed to the post step (GITHUB_STATE), e.g. a lock that must be released. */
export interface StateStore {
  save(name: string, value: string): void;
}
export const coreState: StateStore = { save: (n, v) => core.saveState(n, v) };

export interface RunContext {
  readonly config: Config;
  readonly log: Logger;
  readonly summary: Summary;
  readonly outputs: Outputs;
  readonly state: StateStore;
  host?: Host;
  daemon?: DaemonInfo;
  built?: BuiltImage;
  lock?: DeployLock;
  /** The app's state directory on the host (history, lock). */
  stateDir?: string;
  switched?: SwitchResult;
  shipPlan?: { plan: ShipPlan; full: boolean };
  /** How colors run on the host (container or compose), prepared right after connecting. */
  runtime?: Runtime;
  retention?: { before: DfSnapshot; after: DfSnapshot; reclaimed: number; removed: number };
}

/** A step the action does not have yet: fails clearly instead of pretending. */
export class NotBuiltError extends Error {
  constructor(step: string, issue: number) {
    super(`step '${step}' is not built yet (issue #${issue}); nothing was changed`);
    this.name = 'NotBuiltError';
  }
}
