// Shipping benchmark: a ~200 MB image and a source-only change, sent to a "remote" behind an
// 80 Mbit/s link (bench/netns.sh), three ways, side by side in one run:
//   ours, ssh delta (only the layers the host lacks) · ours, ssh-full · docker save | ssh docker load
import Docker from 'dockerode';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseKnownHosts } from '../src/config/known-hosts.js';
import { formatBytes } from '../src/format.js';
import { connectSsh } from '../src/host/ssh.js';
import { hostChainIds, planLayers } from '../src/ship/plan.js';
import { hostLayers, streamImage } from '../src/ship/step.js';
import { sandbox } from '../__tests__/harness/sandbox.js';
import { appWorkspace } from '../__tests__/harness/workspace.js';

const env = Object.fromEntries(
  execFileSync('bash', ['bench/netns.sh', 'env'], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map((kv) => kv.split('=') as [string, string]),
);
const RATE_BYTES = (Number(/^(\d+)mbit$/.exec(env.BENCH_RATE!)?.[1] ?? 80) * 1e6) / 8;
const s = sandbox();
const builder = new Docker({ socketPath: s.builderSocket });
const benchHost = new Docker({ socketPath: env.BENCH_SOCKET! });
const silent = {
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: <T>(_t: string, fn: () => Promise<T>) => fn(),
};

function build(dir: string, tag: string): string {
  execFileSync(
    '/usr/bin/docker',
    ['build', '-q', '--network', 'host', '--build-arg', `BUILD_TAG=${tag}`, '-t', `bgbench:${tag}`, dir],
    {
      env: { ...process.env, DOCKER_HOST: `unix://${s.builderSocket}`, DOCKER_BUILDKIT: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return `bgbench:${tag}`;
}

async function removeFromHost(id: string): Promise<void> {
  await benchHost
    .getImage(id)
    .remove({ force: true })
    .catch(() => undefined);
}

const ws = appWorkspace();
// ~200 MB dependency layer (random, so no compression flatters anyone), then a 5 MB source tree.
ws.write(
  'Dockerfile',
  'FROM bgsb/busybox:1\nWORKDIR /app\nCOPY deps.txt ./\nRUN head -c 200000000 /dev/urandom > /app/deps.bin\nCOPY src/ /www/\nARG BUILD_TAG=dev\nRUN echo "$BUILD_TAG" > /www/version.txt\n',
);
ws.setDeps(200, `bench ${Date.now()}`);
const source = (n: number) =>
  Array.from({ length: 5 * 1024 }, (_, i) =>
    `line ${i} of source version ${n} ${Math.random().toString(36)}`.padEnd(1023, '.'),
  ).join('\n');
ws.write('src/app.js', source(1));
const v1 = build(ws.dir, 'v1');
ws.write('src/app.js', source(2));
const v2 = build(ws.dir, 'v2');
const [i1, i2] = await Promise.all([builder.getImage(v1).inspect(), builder.getImage(v2).inspect()]);

const host = await connectSsh(
  {
    kind: 'ssh',
    host: env.BENCH_HOST!,
    port: Number(env.BENCH_PORT),
    username: s.sshUser,
    privateKey: s.sshKey,
    knownHosts: (parseKnownHosts(readFileSync(env.BENCH_KNOWN_HOSTS!, 'utf8')) as { ok: true; value: never })
      .value,
    insecureSkipHostKeyCheck: false,
    timeoutMs: 30_000,
  },
  silent,
);

// The host starts with v1 (a previous deploy) and nothing of v2.
await removeFromHost(i2.Id);
if (
  !(await benchHost
    .getImage(i1.Id)
    .inspect()
    .catch(() => undefined))
) {
  await streamImage(
    builder,
    host.docker,
    { id: i1.Id, diffIds: i1.RootFS.Layers! },
    planLayers(i1.RootFS.Layers!, new Set()),
  );
}

interface Row {
  method: string;
  bytes: number;
  seconds: number;
}
const rows: Row[] = [];
let lacked = 0;

async function ours(method: 'ssh' | 'ssh-full'): Promise<void> {
  await removeFromHost(i2.Id);
  const t0 = Date.now();
  // The ship step's own planning: the host's layers, then which of the image's it lacks.
  const layers = method === 'ssh' ? await hostLayers(host.docker) : [];
  const plan = planLayers(i2.RootFS.Layers!, hostChainIds(layers));
  const r = await streamImage(
    builder,
    host.docker,
    { id: i2.Id, diffIds: i2.RootFS.Layers! },
    method === 'ssh' ? plan : planLayers(i2.RootFS.Layers!, new Set()),
  );
  const ok = (await host.docker.getImage(i2.Id).inspect()).Id === i2.Id;
  if (!ok) throw new Error(`${method}: the host does not have ${i2.Id}`);
  rows.push({
    method: method === 'ssh' ? 'ours: ssh (layers the host lacks)' : 'ours: ssh-full',
    bytes: r.wireBytes,
    seconds: (Date.now() - t0) / 1000,
  });
  if (method === 'ssh') lacked = r.keptLayerBytes;
}

async function naive(): Promise<void> {
  await removeFromHost(i2.Id);
  const t0 = Date.now();
  let bytes = 0;
  const save = spawn('/usr/bin/docker', ['save', v2], {
    env: { ...process.env, DOCKER_HOST: `unix://${s.builderSocket}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ssh = spawn(
    'ssh',
    [
      '-i',
      `${s.dir}/deployer_key`,
      '-o',
      `UserKnownHostsFile=${env.BENCH_KNOWN_HOSTS}`,
      '-o',
      'BatchMode=yes',
      '-p',
      env.BENCH_PORT!,
      `${s.sshUser}@${env.BENCH_HOST}`,
      'docker',
      'load',
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const done = new Promise<number>((resolve) => ssh.on('exit', (c) => resolve(c ?? 1)));
  await pipeline(save.stdout, count, ssh.stdin);
  if ((await done) !== 0) throw new Error('docker save | ssh docker load failed');
  rows.push({ method: 'docker save | ssh docker load', bytes, seconds: (Date.now() - t0) / 1000 });
}

/** What the runner's daemon alone needs to produce the save stream: every method pays it. */
async function saveOnly(): Promise<{ firstByte: number; total: number }> {
  const t0 = Date.now();
  let first = 0;
  const stream = (await builder.getImage(i2.Id).get()) as unknown as NodeJS.ReadableStream;
  for await (const _ of stream) if (!first) first = Date.now() - t0;
  return { firstByte: first / 1000, total: (Date.now() - t0) / 1000 };
}

await ours('ssh');
await ours('ssh-full');
await naive();
const save = await saveOnly();
await host.close();

const pad = (t: string, n: number) => t.padEnd(n);
console.log(
  `\nshipping ${v2} (${formatBytes(i2.Size)}, ${i2.RootFS.Layers!.length} layers) after a source-only change, over ${env.BENCH_RATE} (tc tbf on a veth pair into a netns)`,
);
console.log(`${pad('method', 34)}${pad('bytes sent', 14)}seconds`);
for (const r of rows)
  console.log(`${pad(r.method, 34)}${pad(formatBytes(r.bytes), 14)}${r.seconds.toFixed(2)}`);
const delta = rows[0]!;
const byteTarget = 1.05 * lacked;
const timeTarget = 1.2 * (lacked / RATE_BYTES) + 1;
console.log(`layers the host lacked: ${formatBytes(lacked)} (uncompressed layer tars)`);
console.log(
  `docker save of the whole image on the runner's daemon alone: ${save.total.toFixed(2)} s (first byte after ${save.firstByte.toFixed(2)} s: Docker ${(await builder.version()).Version} exports every layer to a temporary directory first)`,
);
console.log(
  `target bytes ≤ 1.05 × lacked = ${formatBytes(byteTarget)}: ${delta.bytes <= byteTarget ? 'met' : 'MISSED'} (${formatBytes(delta.bytes)})`,
);
console.log(
  `target time ≤ 1.2 × lacked/bandwidth + 1 s = ${timeTarget.toFixed(2)} s: ${delta.seconds <= timeTarget ? 'met' : 'MISSED'} (${delta.seconds.toFixed(2)} s)`,
);
process.exitCode = delta.bytes <= byteTarget && delta.seconds <= timeTarget ? 0 : 1;
