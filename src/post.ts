import './shim.js';
// The post step: runs after the job, even when main crashed or was killed. Releases the deploy
// lock if main could not (the SSH connection itself died with main's process).
import * as core from '@actions/core';
import { readConfig } from './config/inputs.js';
import { releaseIfOurs } from './deploy/lock.js';
import { connect } from './host/index.js';
import { coreLogger } from './log.js';

async function post(): Promise<void> {
  const raw = core.getState('lock');
  if (raw === '') {
    core.info('post: nothing to clean up');
    return;
  }
  const { dir, nonce } = JSON.parse(raw) as { dir: string; nonce: string };
  const parsed = readConfig();
  if (!parsed.ok) return;
  const host = await connect(parsed.config.target, { ...coreLogger, info: () => undefined });
  try {
    const released = await releaseIfOurs(host, dir, nonce);
    core.info(
      released
        ? `post: released the deploy lock ${dir} that the main step left behind`
        : `post: the deploy lock ${dir} is no longer ours`,
    );
  } finally {
    await host.close();
  }
}

await post().catch((e: Error) => core.warning(`post: ${e.message}`));
