// proxy: command — the user's own switch, run on the host with the new color's details.
import type { DeployConfig } from '../../config/schema.js';
import type { Host } from '../../host/index.js';
import { substitute } from '../../host/run.js';
import { SwitchError } from './nginx.js';

export interface SwitchTarget {
  readonly app: string;
  readonly color: string;
  readonly port: number;
  readonly container: string;
}

export async function runSwitchCommand(
  host: Host,
  cfg: DeployConfig,
  t: SwitchTarget,
): Promise<{ ms: number; output: string }> {
  const t0 = Date.now();
  const vars = { BG_APP: t.app, BG_COLOR: t.color, BG_PORT: String(t.port), BG_CONTAINER: t.container };
  const argv = substitute(cfg.switchCommand ?? [], vars);
  const r = await host.run(argv, { env: vars });
  if (r.code !== 0) {
    const out = (r.stderr + '\n' + r.stdout).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    throw new SwitchError(
      `switch-command '${argv.join(' ')}' failed (exit ${r.code}: ${out || 'no output'})`,
    );
  }
  return { ms: Date.now() - t0, output: r.stdout.trim() };
}
