// The compose runtime: blue and green are two services of the user's docker-compose.yml on the
// host, exactly as seed 000 runs them. The action drives that file as it stands, over the SSH
// connection, with every argument quoted: `up -d --no-deps --no-build <idle>` with the image
// variables set for that one command, `start`/`stop` of a service. Containers are found by the
// labels compose puts on them.
import type Docker from 'dockerode';
import { posix } from 'node:path';
import YAML from 'yaml';
import type { ComposeConfig } from '../../config/schema.js';
import type { Host } from '../../host/index.js';
import type { Color, ObservedContainer } from '../plan.js';
import type { Runtime } from './runtime.js';
import { LABEL_BUILD_TAG } from '../../build/labels.js';

export class ComposeError extends Error {}

/** compose's default project name: the compose file's directory, lowercased, [a-z0-9_-] kept. */
export function defaultProject(file: string): string {
  return posix
    .basename(posix.dirname(file))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');
}

export interface ComposeCheck {
  readonly ports: Partial<Record<Color, number>>;
  readonly errors: string[];
}

/** The host port a service publishes, from short (`[ip:]host:container`) or long port syntax. */
function publishedPort(ports: unknown): number | undefined {
  if (!Array.isArray(ports)) return undefined;
  for (const p of ports) {
    if (typeof p === 'object' && p !== null && 'published' in p)
      return Number((p as { published: unknown }).published);
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    if (parts.length >= 2) return Number(parts[parts.length - 2]);
  }
  return undefined;
}

/**
 * Checks a compose file before anything changes: both services exist, both read the image from
 * the variable, and they do not publish the same port. Pure: the text comes from the host.
 */
export function checkCompose(text: string, c: ComposeConfig): ComposeCheck {
  const errors: string[] = [];
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    return { ports: {}, errors: [`${c.file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`] };
  }
  const services = (doc as { services?: Record<string, Record<string, unknown>> } | null)?.services;
  if (!services || typeof services !== 'object')
    return { ports: {}, errors: [`${c.file} has no services: section`] };
  const ports: Partial<Record<Color, number>> = {};
  const uses = new RegExp(`\\$\\{?${c.imageEnv}(?![A-Za-z0-9_])`);
  for (const color of ['blue', 'green'] as const) {
    const name = c.services[color];
    const svc = services[name];
    if (!svc) {
      errors.push(
        `${c.file} has no service ${name} (compose-services names ${c.services.blue},${c.services.green}; it has ${Object.keys(services).join(', ')})`,
      );
      continue;
    }
    if (typeof svc.image !== 'string' || !uses.test(svc.image)) {
      errors.push(
        `service ${name} in ${c.file} does not take its image from \${${c.imageEnv}} (image: ${JSON.stringify(svc.image ?? null)}); set image: \${${c.imageEnv}} or compose-image-env`,
      );
    }
    // With network_mode: host nothing is published: the app's PORT is the color's port.
    const env = svc.environment as Record<string, unknown> | string[] | undefined;
    const envPort = Array.isArray(env) ? env.find((e) => String(e).startsWith('PORT='))?.slice(5) : env?.PORT;
    const port =
      svc.network_mode === 'host' && envPort !== undefined ? Number(envPort) : publishedPort(svc.ports);
    if (port !== undefined && Number.isFinite(port)) ports[color] = port;
  }
  if (ports.blue !== undefined && ports.blue === ports.green) {
    errors.push(
      `services ${c.services.blue} and ${c.services.green} in ${c.file} both publish port ${ports.blue}: they must differ to run side by side`,
    );
  }
  return { ports, errors };
}

/** `docker compose` (v2 plugin) when the host has it, else `docker-compose` (v1). */
export async function composeCommand(host: Host): Promise<string[]> {
  if ((await host.run(['docker', 'compose', 'version'])).code === 0) return ['docker', 'compose'];
  if ((await host.run(['docker-compose', 'version'])).code === 0) return ['docker-compose'];
  throw new ComposeError(
    `runtime: compose needs docker compose (v2) or docker-compose (v1) on ${host.label}; neither runs there`,
  );
}

export interface ComposeSetup {
  readonly cmd: string[];
  readonly project: string;
  readonly ports: Record<Color, number>;
}

/** Reads and checks the compose file on the host and compose's own view of it; throws one line per problem. */
export async function prepareCompose(
  host: Host,
  c: ComposeConfig,
  fallbackPorts: Record<Color, number>,
  image: string,
): Promise<ComposeSetup> {
  const data = await host.readFile(c.file);
  if (!data) throw new ComposeError(`input 'compose-file': ${c.file} does not exist on ${host.label}`);
  const check = checkCompose(data.toString('utf8'), c);
  if (check.errors.length) throw new ComposeError(check.errors.join('; '));
  const cmd = await composeCommand(host);
  const project = c.project ?? defaultProject(c.file);
  const conf = await host.run([...cmd, '-f', c.file, '-p', project, 'config', '-q'], {
    env: { [c.imageEnv]: image, BUILD_TAG: 'check' },
  });
  if (conf.code !== 0) {
    const why = (conf.stderr + conf.stdout).trim().split('\n').filter(Boolean).slice(-2).join(' | ');
    throw new ComposeError(`${cmd.join(' ')} rejects ${c.file}: ${why}`);
  }
  return {
    cmd,
    project,
    ports: { blue: check.ports.blue ?? fallbackPorts.blue, green: check.ports.green ?? fallbackPorts.green },
  };
}

export function composeRuntime(host: Host, c: ComposeConfig, setup: ComposeSetup): Runtime {
  const docker = host.docker;
  const base = [...setup.cmd, '-f', c.file, '-p', setup.project];
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const r = await host.run([...base, ...args], { env, timeoutMs: 300_000 });
    if (r.code !== 0) {
      const why = (r.stderr + '\n' + r.stdout).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      throw new ComposeError(
        `'${[...setup.cmd, ...args].join(' ')}' failed on ${host.label} (exit ${r.code}): ${why}`,
      );
    }
  };
  const containerOf = async (color: Color): Promise<Docker.ContainerInfo | undefined> => {
    const list = await docker.listContainers({
      all: true,
      filters: JSON.stringify({
        label: [
          `com.docker.compose.project=${setup.project}`,
          `com.docker.compose.service=${c.services[color]}`,
        ],
      }),
    });
    return list.sort((a, b) => b.Created - a.Created)[0];
  };
  const imageEnv = (image: string, buildTag: string) => ({ [c.imageEnv]: image, BUILD_TAG: buildTag });
  return {
    kind: 'compose',
    async observe() {
      const out: Partial<Record<Color, ObservedContainer>> = {};
      for (const color of ['blue', 'green'] as const) {
        const info = await containerOf(color);
        if (!info) continue;
        const tag = info.Labels?.[LABEL_BUILD_TAG];
        out[color] = {
          id: info.Id,
          name: (info.Names[0] ?? '').replace(/^\//, ''),
          running: info.State === 'running',
          state: info.State,
          imageId: info.ImageID,
          ...(tag ? { buildTag: tag } : {}),
          created: info.Created,
        };
      }
      return out;
    },
    port: (color) => setup.ports[color],
    describe: (color) => `compose service ${c.services[color]}`,
    async startNew(color, image, buildTag) {
      // Only the idle service is named: compose leaves the serving one alone.
      await run(['up', '-d', '--no-deps', '--no-build', c.services[color]], imageEnv(image, buildTag));
      const info = await containerOf(color);
      if (!info) throw new ComposeError(`compose started no container for service ${c.services[color]}`);
      return docker.getContainer(info.Id);
    },
    async restart(color, kept) {
      await run(['start', c.services[color]], imageEnv(kept.imageId, kept.buildTag ?? 'rollback'));
      return docker.getContainer(kept.id);
    },
    async discard(color, started, wasRestart) {
      const info = await started.inspect();
      await run(['stop', c.services[color]], imageEnv(info.Image, 'discard'));
      if (!wasRestart) await run(['rm', '-f', c.services[color]], imageEnv(info.Image, 'discard'));
    },
    async stopOld(color, old, keep) {
      await run(['stop', c.services[color]], imageEnv(old.imageId, old.buildTag ?? 'old'));
      if (!keep) await run(['rm', '-f', c.services[color]], imageEnv(old.imageId, old.buildTag ?? 'old'));
    },
  };
}
