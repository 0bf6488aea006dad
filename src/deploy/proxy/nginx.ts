// Switching nginx: write the upstream file atomically, test the config, reload. A failing test
// puts the old file back and nginx is never reloaded, so it keeps serving what it served.
import type { DeployConfig } from '../../config/schema.js';
import type { Host } from '../../host/index.js';

export class SwitchError extends Error {}

const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || '(no output)';

export interface NginxSwitch {
  /** The file's content before the switch (undefined: it did not exist). */
  readonly previous?: string;
  readonly ms: number;
}

async function restore(host: Host, file: string, previous: string | undefined): Promise<void> {
  if (previous === undefined) await host.remove(file);
  else await host.writeFileAtomic(file, previous);
}

export async function switchNginx(host: Host, cfg: DeployConfig, content: string): Promise<NginxSwitch> {
  const t0 = Date.now();
  const file = cfg.nginxUpstreamFile;
  const previous = (await host.readFile(file))?.toString('utf8');
  await host.writeFileAtomic(file, content);
  const test = await host.run(cfg.nginxTestCommand);
  if (test.code !== 0) {
    await restore(host, file, previous);
    throw new SwitchError(
      `'${cfg.nginxTestCommand.join(' ')}' failed (exit ${test.code}: ${lastLine(test.stderr + '\n' + test.stdout)}); the old upstream file was restored and nginx was not reloaded. Check that ${file} is included inside an upstream block`,
    );
  }
  const reload = await host.run(cfg.reloadCommand);
  if (reload.code !== 0) {
    await restore(host, file, previous);
    const again = await host.run(cfg.reloadCommand);
    throw new SwitchError(
      `'${cfg.reloadCommand.join(' ')}' failed (exit ${reload.code}: ${lastLine(reload.stderr + '\n' + reload.stdout)}); the old upstream file was restored${again.code === 0 ? ' and reloaded' : ''}. Check reload-command`,
    );
  }
  return { ...(previous !== undefined ? { previous } : {}), ms: Date.now() - t0 };
}

/** Put an earlier upstream back (used when a later step must undo the switch). */
export async function revertNginx(
  host: Host,
  cfg: DeployConfig,
  previous: string | undefined,
): Promise<void> {
  await restore(host, cfg.nginxUpstreamFile, previous);
  await host.run(cfg.reloadCommand);
}
