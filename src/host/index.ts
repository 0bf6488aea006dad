// Reaching the target: one SSH connection when `host` is set, the runner itself otherwise.
import type { Target } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Host } from './host.js';
import { localHost } from './local.js';
import { connectSsh } from './ssh.js';

export type { Host, RunResult } from './host.js';
export { HostError } from './host.js';

export async function connect(target: Target, log: Logger): Promise<Host> {
  return target.kind === 'ssh' ? connectSsh(target, log) : localHost();
}

export interface DaemonInfo {
  readonly version: string;
  readonly apiVersion: string;
  readonly os: string;
  readonly arch: string;
  readonly platform: string;
  readonly storageDriver: string;
  readonly containerdStore: boolean;
  readonly dockerRootDir: string;
}

/** Version and platform of the target's daemon, through dockerode. */
export async function describeDaemon(host: Host): Promise<DaemonInfo> {
  const [v, info] = await Promise.all([
    host.docker.version(),
    host.docker.info() as Promise<Record<string, unknown>>,
  ]);
  const arch = normalizeArch(String(v.Arch));
  const driverStatus = (info.DriverStatus as Array<[string, string]> | undefined) ?? [];
  const containerdStore = driverStatus.some(([k, val]) => k === 'driver-type' && /containerd/.test(val));
  return {
    version: String(v.Version),
    apiVersion: String(v.ApiVersion),
    os: String(v.Os),
    arch,
    platform: `${v.Os}/${arch}`,
    storageDriver: String(info.Driver ?? ''),
    containerdStore,
    dockerRootDir: String(info.DockerRootDir ?? '/var/lib/docker'),
  };
}

/** Docker reports Go's GOARCH; a few names differ from what --platform expects. */
export function normalizeArch(a: string): string {
  const map: Record<string, string> = {
    x86_64: 'amd64',
    aarch64: 'arm64',
    armv7l: 'arm/v7',
    i386: '386',
    i686: '386',
  };
  return map[a] ?? a;
}
