// Seed 000's own setup: blue and green are two services of a docker-compose.yml on the host,
// behind the sandbox nginx. The action drives the file as it stands (Debian's docker-compose v1).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { startLoad } from '../harness/load.js';
import { expectOk, runAction } from '../harness/runner.js';
import {
  addSite,
  remoteDocker,
  removeSite,
  resetApp,
  runnerEnv,
  sandbox,
  snapshot,
  sshInputs,
  type Site,
} from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

const APP = 'bgcompose';
const DIR = `/home/${sandbox().sshUser}/apps/${APP}`;
const FILE = `${DIR}/docker-compose.yml`;
const GOOD = `# the team's own compose file: two colors, each published on its own port
services:
  blue:
    image: \${IMAGE}
    ports: ["127.0.0.1:3701:3000"]
    environment:
      PORT: "3000"
      BUILD_TAG: \${BUILD_TAG}
    restart: unless-stopped
  green:
    image: \${IMAGE}
    ports: ["127.0.0.1:3702:3000"]
    environment:
      PORT: "3000"
      BUILD_TAG: \${BUILD_TAG}
    restart: unless-stopped
`;

function writeCompose(text: string): void {
  const user = sandbox().sshUser;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(FILE, text);
  execFileSync('chown', ['-R', `${user}:${user}`, `/home/${user}/apps`]);
}

let site: Site;
const ws = appWorkspace();
const inputs = (over: Record<string, string> = {}) => ({
  ...sshInputs(),
  image: APP,
  'build-network': 'host',
  runtime: 'compose',
  'compose-file': FILE,
  'nginx-upstream-file': site.upstreamFile,
  'health-path': '/healthz',
  'health-timeout': '20s',
  drain: '2s',
  ...over,
});
const deploy = (page: string, over: Record<string, string> = {}) => {
  ws.setPage(page);
  return runAction(inputs(over), { env: runnerEnv(), workspace: ws.dir, sha: nextSha() });
};
async function version(): Promise<string> {
  return (await (await fetch(`${site.url}/version.txt`)).text()).trim();
}
async function dockerDiskBytes(): Promise<number> {
  const df = (await remoteDocker().df()) as { LayersSize: number };
  return df.LayersSize;
}

beforeAll(async () => {
  await resetApp(APP);
  for (const c of await remoteDocker().listContainers({
    all: true,
    filters: JSON.stringify({ label: [`com.docker.compose.project=${APP}`] }),
  })) {
    await remoteDocker().getContainer(c.Id).remove({ force: true });
  }
  site = addSite(APP, 8201, 3701);
});
afterAll(() => removeSite(APP));

describe('runtime: compose', () => {
  test('a broken compose file fails before any change, with a line naming it', async () => {
    writeCompose('services:\n  blue: [this is: not: valid\n');
    const before = await snapshot(remoteDocker());
    const r = await deploy('broken file');
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      new RegExp(`::error::runtime: ${FILE.replace(/\//g, '\\/')} is not valid YAML`),
    );
    expect(await snapshot(remoteDocker())).toBe(before);
  });

  test('a missing service fails before any change, with a line naming it', async () => {
    writeCompose(GOOD);
    const before = await snapshot(remoteDocker());
    const r = await deploy('missing service', { 'compose-services': 'blue,purple' });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /::error::runtime: .*docker-compose\.yml has no service purple \(compose-services names blue,purple; it has blue, green\)/,
    );
    expect(await snapshot(remoteDocker())).toBe(before);
  });

  test('the first deploy starts the blue service through compose and nginx serves it', async () => {
    writeCompose(GOOD);
    const r = await deploy('compose v1');
    expectOk(r);
    expect(r.main.log).toContain('runtime: compose: docker-compose -f');
    expect(r.outputs['active-color']).toBe('blue');
    expect(await version()).toBe(r.outputs['build-tag']);
    const cs = await remoteDocker().listContainers({
      filters: JSON.stringify({ label: [`com.docker.compose.project=${APP}`] }),
    });
    expect(cs.map((c) => c.Labels['com.docker.compose.service'])).toEqual(['blue']);
  });

  test('three deploys alternate services under continuous load with 0 failed requests (≥ 2,000 per switch)', async () => {
    const colors: string[] = [];
    for (const v of ['compose v2', 'compose v3', 'compose v4']) {
      const load = startLoad(`${site.url}/version.txt`);
      const r = await deploy(v);
      const result = await load.stop();
      expectOk(r);
      colors.push(r.outputs['active-color']!);
      expect(await version()).toBe(r.outputs['build-tag']);
      expect({ failed: result.failed, errors: result.errors }).toEqual({ failed: 0, errors: {} });
      expect(result.total).toBeGreaterThanOrEqual(2000);
      process.stdout.write(`compose switch: ${result.total} requests, ${result.failed} failed\n`);
    }
    expect(colors).toEqual(['green', 'blue', 'green']);
  }, 300_000);

  test('a failing health check leaves the old service serving', async () => {
    const before = await version();
    const r = await deploy('compose broken', { 'health-path': '/no-such-page', 'health-timeout': '4s' });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /was not healthy within 4\.0 s \(health-timeout\): last probe: HTTP 404\. green keeps serving/,
    );
    expect(await version()).toBe(before);
  }, 120_000);

  test('command: rollback restores the previous version through compose', async () => {
    const current = await version();
    const r = await runAction(inputs({ command: 'rollback' }), { env: runnerEnv(), workspace: ws.dir });
    expectOk(r);
    const now = await version();
    expect(now).not.toBe(current);
    expect(r.outputs['active-color']).toBe('blue');
  }, 120_000);

  test('retention keeps the disk flat over 10 deploys whose dependency layer changes every time', async () => {
    const curve: number[] = [];
    for (let i = 1; i <= 10; i++) {
      ws.setDeps(4, `compose deploy ${i} ${Date.now()}`);
      const r = await deploy(`compose flat ${i}`, { drain: '0s' });
      expectOk(r);
      curve.push(await dockerDiskBytes());
    }
    process.stdout.write(
      `compose: image bytes (MB) after each of 10 deploys: ${curve.map((n) => (n / 1e6).toFixed(1)).join(' ')}\n`,
    );
    expect(curve[9]!).toBeLessThanOrEqual(1.05 * curve[2]!);
    // every image a compose service's container uses is still there
    for (const c of await remoteDocker().listContainers({
      all: true,
      filters: JSON.stringify({ label: [`com.docker.compose.project=${APP}`] }),
    })) {
      expect((await remoteDocker().getImage(c.ImageID).inspect()).Id).toBe(c.ImageID);
    }
  }, 600_000);
});
