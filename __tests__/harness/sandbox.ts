// The sandbox as the tests see it: connection inputs for the action, and direct dockerode
// clients on both daemons for the assertions (never used by the action itself).
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './runner.js';

export const SANDBOX_SH = path.join(ROOT, '__tests__/sandbox/sandbox.sh');

export interface Sandbox {
  readonly dir: string;
  readonly builderSocket: string;
  readonly remoteSocket: string;
  readonly sshHost: string;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly sshKey: string;
  readonly knownHosts: string;
  readonly nginxPort: number;
  readonly nginxDir: string;
  readonly baseImage: string;
  readonly bin: string;
}

let cached: Sandbox | undefined;

export function sandbox(): Sandbox {
  if (cached) return cached;
  const out = execFileSync('bash', [SANDBOX_SH, 'env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  const get = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`sandbox env lacks ${k}`);
    return v;
  };
  cached = {
    dir: get('BGSB_DIR'),
    builderSocket: get('BGSB_BUILDER_DOCKER_HOST').replace('unix://', ''),
    remoteSocket: get('BGSB_REMOTE_DOCKER_HOST').replace('unix://', ''),
    sshHost: get('BGSB_SSH_HOST'),
    sshPort: Number(get('BGSB_SSH_PORT')),
    sshUser: get('BGSB_SSH_USER'),
    sshKey: readFileSync(get('BGSB_SSH_KEY_FILE'), 'utf8'),
    knownHosts: readFileSync(get('BGSB_KNOWN_HOSTS_FILE'), 'utf8'),
    nginxPort: Number(get('BGSB_NGINX_PORT')),
    nginxDir: get('BGSB_NGINX_DIR'),
    baseImage: get('BGSB_BASE_IMAGE'),
    bin: get('BGSB_BIN'),
  };
  return cached;
}

/** The inputs that point the action at the sandbox host over SSH. */
export function sshInputs(): Record<string, string> {
  const s = sandbox();
  return {
    host: s.sshHost,
    port: String(s.sshPort),
    username: s.sshUser,
    'ssh-key': s.sshKey,
    'known-hosts': s.knownHosts,
  };
}

/** The runner's environment: a `docker` with BuildKit first on PATH, the builder daemon. */
export function runnerEnv(): Record<string, string> {
  const s = sandbox();
  return {
    PATH: `${s.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    DOCKER_HOST: `unix://${s.builderSocket}`,
  };
}

export const remoteDocker = () => new Docker({ socketPath: sandbox().remoteSocket });
export const builderDocker = () => new Docker({ socketPath: sandbox().builderSocket });

/** Everything a test must find unchanged: image IDs and tags, containers and their states. */
export async function snapshot(docker: Docker): Promise<string> {
  const images = await docker.listImages({ all: true });
  const containers = await docker.listContainers({ all: true });
  return JSON.stringify({
    images: images.map((i) => `${i.Id} ${(i.RepoTags ?? []).join(',')}`).sort(),
    containers: containers.map((c) => `${c.Id} ${c.Names.join(',')} ${c.State} ${c.ImageID}`).sort(),
  });
}

function asDeployer(cmd: string[]): void {
  execFileSync(
    'su',
    ['-s', '/bin/sh', sandbox().sshUser, '-c', cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')],
    { stdio: 'pipe' },
  );
}

/** Reloads the sandbox nginx (as the deployer, like the action does). */
export function reloadNginx(): void {
  asDeployer([`${sandbox().nginxDir}/bin/nginx`, '-s', 'reload']);
}

export interface Site {
  readonly app: string;
  readonly port: number;
  readonly upstreamFile: string;
  readonly url: string;
}

/**
 * An nginx site for one test app on its own port; `upstreamInclude` lets a test put the include
 * where it wants (e.g. a broken place). The action then rewrites only the upstream file.
 */
export function addSite(
  app: string,
  port: number,
  firstColorPort: number,
  opts: { siteConf?: string; upstream?: string } = {},
): Site {
  const s = sandbox();
  const upstreamFile = `${s.nginxDir}/conf.d/${app}.upstream`;
  writeFileSync(upstreamFile, opts.upstream ?? `server 127.0.0.1:${firstColorPort};\n`);
  const conf =
    opts.siteConf ??
    execFileSync('bash', [SANDBOX_SH, 'site', app, String(port), upstreamFile], { encoding: 'utf8' });
  writeFileSync(`${s.nginxDir}/sites/${app}.conf`, conf);
  execFileSync('chown', ['-R', `${s.sshUser}:${s.sshUser}`, `${s.nginxDir}/conf.d`, `${s.nginxDir}/sites`]);
  reloadNginx();
  return { app, port, upstreamFile, url: `http://127.0.0.1:${port}` };
}

export function removeSite(app: string): void {
  const s = sandbox();
  rmSync(`${s.nginxDir}/sites/${app}.conf`, { force: true });
  reloadNginx();
}

/** Removes everything an earlier run of a test left for this app on the remote host. */
export async function resetApp(app: string): Promise<void> {
  const docker = remoteDocker();
  for (const c of await docker.listContainers({ all: true })) {
    if (
      c.Names.some((n) => n === `/${app}-blue` || n === `/${app}-green`) ||
      c.Labels?.['dev.bluegreen.app'] === app
    ) {
      await docker.getContainer(c.Id).remove({ force: true });
    }
  }
  for (const i of await docker.listImages({
    filters: JSON.stringify({ label: [`dev.bluegreen.app=${app}`] }),
  })) {
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  rmSync(`/home/${sandbox().sshUser}/.docker-bluegreen/${app}`, { recursive: true, force: true });
}
