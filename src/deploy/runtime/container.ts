// The container runtime: each color is one container `<app>-<color>`, created through dockerode.
import type Docker from 'dockerode';
import { PassThrough, Readable } from 'node:stream';
import { LABEL_APP, LABEL_BUILD_TAG, LABEL_COLOR } from '../../build/labels.js';
import type { DeployConfig, KeyValues } from '../../config/schema.js';
import type { Color, ObservedContainer } from '../plan.js';
import type { Runtime } from './runtime.js';

export const LABEL_MANAGED = 'dev.bluegreen.managed';

export const containerName = (app: string, color: Color) => `${app}-${color}`;

export async function observeContainers(
  docker: Docker,
  app: string,
): Promise<Partial<Record<Color, ObservedContainer>>> {
  const out: Partial<Record<Color, ObservedContainer>> = {};
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ name: [`${app}-blue`, `${app}-green`] }),
  });
  for (const c of list) {
    for (const color of ['blue', 'green'] as const) {
      // The name filter matches substrings: keep exact names only.
      if (!c.Names.includes(`/${containerName(app, color)}`)) continue;
      out[color] = {
        id: c.Id,
        name: containerName(app, color),
        running: c.State === 'running',
        state: c.State,
        imageId: c.ImageID,
        ...(c.Labels?.[LABEL_BUILD_TAG] ? { buildTag: c.Labels[LABEL_BUILD_TAG] } : {}),
        created: c.Created,
      };
    }
  }
  return out;
}

export interface ColorSpec {
  readonly app: string;
  readonly color: Color;
  readonly image: string;
  readonly buildTag: string;
  readonly port: number;
  readonly cfg: DeployConfig;
  /** From env-file on the host; the `env` input wins on a duplicate key. */
  readonly envFile: KeyValues;
}

export function containerSpec(s: ColorSpec): Docker.ContainerCreateOptions {
  const cfg = s.cfg;
  const hostNet = cfg.network === 'host';
  const env = new Map<string, string>();
  for (const [k, v] of s.envFile) env.set(k, v);
  for (const [k, v] of cfg.env) env.set(k, v);
  // The app learns its port from PORT: the color's port with host networking, else the container port.
  if (!env.has('PORT') || hostNet) env.set('PORT', String(hostNet ? s.port : cfg.containerPort));
  const exposed = `${cfg.containerPort}/tcp`;
  return {
    name: containerName(s.app, s.color),
    Image: s.image,
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    Labels: {
      [LABEL_APP]: s.app,
      [LABEL_COLOR]: s.color,
      [LABEL_BUILD_TAG]: s.buildTag,
      [LABEL_MANAGED]: 'true',
    },
    ...(hostNet ? {} : { ExposedPorts: { [exposed]: {} } }),
    HostConfig: {
      ...(hostNet
        ? {}
        : { PortBindings: { [exposed]: [{ HostIp: cfg.bindAddress, HostPort: String(s.port) }] } }),
      ...(cfg.network ? { NetworkMode: cfg.network } : {}),
      RestartPolicy: { Name: cfg.restart.name, MaximumRetryCount: cfg.restart.maxRetries },
      Binds: cfg.volumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`),
    },
  };
}

export async function startColor(docker: Docker, s: ColorSpec): Promise<Docker.Container> {
  const c = await docker.createContainer(containerSpec(s));
  try {
    await c.start();
  } catch (e) {
    await c.remove({ force: true }).catch(() => undefined);
    throw e;
  }
  return c;
}

export async function removeContainer(docker: Docker, id: string): Promise<void> {
  await docker
    .getContainer(id)
    .remove({ force: true })
    .catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
}

export async function stopContainer(docker: Docker, id: string, timeoutS = 10): Promise<void> {
  await docker
    .getContainer(id)
    .stop({ t: timeoutS })
    .catch((e: { statusCode?: number }) => {
      // 304: already stopped; 404: already gone.
      if (e.statusCode !== 304 && e.statusCode !== 404) throw e;
    });
}

/** The container's last lines of output (stdout and stderr demultiplexed by docker-modem). */
export async function lastLogLines(docker: Docker, container: Docker.Container, tail = 50): Promise<string> {
  const raw = (await container.logs({
    stdout: true,
    stderr: true,
    tail,
    follow: false,
  })) as unknown as Buffer;
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (d: Buffer) => chunks.push(d));
  const src = Readable.from([raw]);
  await new Promise<void>((resolve) => {
    src.on('end', resolve);
    docker.modem.demuxStream(src, out, out);
  });
  return Buffer.concat(chunks).toString('utf8').trimEnd();
}

/** The container runtime: `<app>-<color>` created from the image with the action's inputs. */
export function containerRuntime(
  docker: Docker,
  cfg: DeployConfig,
  app: string,
  envFile: () => Promise<KeyValues>,
): Runtime {
  return {
    kind: 'container',
    observe: () => observeContainers(docker, app),
    port: (color) => cfg.ports[color],
    describe: (color) => containerName(app, color),
    async startNew(color, image, buildTag, replace) {
      if (replace) {
        if (replace.running) await stopContainer(docker, replace.id, 5);
        await removeContainer(docker, replace.id);
      }
      return startColor(docker, {
        app,
        color,
        image,
        buildTag,
        port: cfg.ports[color],
        cfg,
        envFile: await envFile(),
      });
    },
    async restart(_color, kept) {
      const c = docker.getContainer(kept.id);
      await c.start().catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 304) throw e;
      });
      return c;
    },
    async discard(_color, started, wasRestart) {
      const id = (await started.inspect()).Id;
      if (wasRestart) await stopContainer(docker, id, 5);
      else await removeContainer(docker, id);
    },
    async stopOld(_color, old, keep) {
      await stopContainer(docker, old.id);
      if (!keep) await removeContainer(docker, old.id);
    },
  };
}
