// Blue/green on the sandbox host through the runner-faithful harness: deploys alternate colors
// under continuous load with no failed request, a bad version never gets traffic, a broken nginx
// test changes nothing, two deploys never switch at once, and rollback is quick.
import { startLoad, type LoadResult } from '../harness/load.js';
import { expectOk, runAction, type ActionRun } from '../harness/runner.js';
import {
  addSite,
  remoteDocker,
  removeSite,
  resetApp,
  runnerEnv,
  sandbox,
  sshInputs,
  type Site,
} from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

const APP = 'bgdeploy';
let site: Site;
const ws = appWorkspace();

const inputs = (over: Record<string, string> = {}) => ({
  ...sshInputs(),
  image: APP,
  'build-network': 'host',
  network: 'host',
  ports: '3101,3102',
  'nginx-upstream-file': site.upstreamFile,
  'health-path': '/healthz',
  'health-timeout': '20s',
  drain: '2s',
  ...over,
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${site.url}${path}`);
  return { status: r.status, body: (await r.text()).trim() };
}

const deploy = (page: string, over: Record<string, string> = {}, sha = nextSha()) => {
  ws.setPage(page);
  return runAction(inputs(over), { env: runnerEnv(), workspace: ws.dir, sha });
};

beforeAll(async () => {
  await resetApp(APP);
  site = addSite(APP, 8101, 3101);
});
afterAll(() => removeSite(APP));

describe('blue/green deploys', () => {
  const loads: LoadResult[] = [];

  test('the first deploy starts blue and nginx serves it', async () => {
    const r = await deploy('v1');
    expectOk(r);
    expect(r.outputs['active-color']).toBe('blue');
    expect(r.outputs['previous-color']).toBeUndefined();
    expect((await get('/version.txt')).body).toBe(r.outputs['build-tag']);
    expect(r.summary).toMatch(/### Switch[\s\S]*\(nothing\) \| blue/);
    // the summary a person reads: every section of the run, with charts
    for (const section of [
      '### Host',
      '### Dockerfile advice',
      '### Build',
      '### Image',
      '### Disk guard',
      '### Ship',
      '### Switch',
      '### Retention',
    ]) {
      expect(r.summary).toContain(section);
    }
    expect(r.summary.match(/```mermaid\nxychart-beta/g)?.length).toBeGreaterThanOrEqual(2);
  });

  test('three more deploys alternate colors under continuous load with 0 failed requests (≥ 2,000 per switch)', async () => {
    const colors: string[] = [];
    for (const v of ['v2', 'v3', 'v4']) {
      const load = startLoad(`${site.url}/version.txt`, { concurrency: 8 });
      const r = await deploy(v);
      // keep the load on through the drain and the stop of the old color
      const result = await load.stop();
      loads.push(result);
      expectOk(r);
      colors.push(r.outputs['active-color']!);
      expect((await get('/version.txt')).body).toBe(r.outputs['build-tag']);
      expect((await get('/')).body).toContain(v);
      expect({ failed: result.failed, errors: result.errors }).toEqual({ failed: 0, errors: {} });
      expect(result.total).toBeGreaterThanOrEqual(2000);
      // both versions answered during the switch: the load really spanned it
      expect(Object.keys(result.bodies).length).toBeGreaterThanOrEqual(2);
    }
    expect(colors).toEqual(['green', 'blue', 'green']);
    process.stdout.write(
      `switch load: ${loads.map((l) => `${l.total} requests, ${l.failed} failed`).join('; ')}\n`,
    );
  }, 300_000);

  test('the old color is stopped but kept for rollback', async () => {
    const cs = await remoteDocker().listContainers({
      all: true,
      filters: JSON.stringify({ label: [`dev.bluegreen.app=${APP}`] }),
    });
    const byName = Object.fromEntries(cs.map((c) => [c.Names[0], c.State]));
    expect(byName).toEqual({ [`/${APP}-green`]: 'running', [`/${APP}-blue`]: 'exited' });
  });

  test('a version whose health check never passes: the run fails, the old version keeps serving, the new container is gone', async () => {
    const before = await get('/version.txt');
    const r = await deploy('broken', { 'health-path': '/no-such-page', 'health-timeout': '4s' });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /::error::switch: blue \(\S+\) was not healthy within 4\.0 s \(health-timeout\): last probe: HTTP 404\. green keeps serving/,
    );
    expect(r.main.log).toContain('Last 50 log lines');
    expect(await get('/version.txt')).toEqual(before);
    const cs = await remoteDocker().listContainers({
      all: true,
      filters: JSON.stringify({ name: [`${APP}-blue`] }),
    });
    expect(cs.filter((c) => c.Names.includes(`/${APP}-blue`))).toEqual([]);
    expect(r.summary).toContain('Health check failed');
  }, 120_000);

  test('a broken nginx config test: the old upstream file is restored, no reload, the run fails clearly', async () => {
    const s = sandbox();
    // A second site whose "upstream file" is included where a server line is not allowed.
    const brokenFile = `${s.nginxDir}/conf.d/${APP}-broken.upstream`;
    const conf = `server {\n  listen 127.0.0.1:8102;\n  location / {\n    include ${brokenFile};\n    return 200 "ok";\n  }\n}\n`;
    const broken = addSite(`${APP}-broken`, 8102, 3101, { siteConf: conf, upstream: '# nothing yet\n' });
    try {
      const { readFileSync } = await import('node:fs');
      const servingBefore = await get('/version.txt');
      const r = await deploy('v5', { 'nginx-upstream-file': brokenFile });
      expect(r.main.exitCode).not.toBe(0);
      expect(r.main.log).toMatch(
        /::error::switch: 'nginx -t' failed \(exit 1: .*"server" directive is not allowed here.*\); the old upstream file was restored and nginx was not reloaded/,
      );
      expect(readFileSync(brokenFile, 'utf8')).toBe('# nothing yet\n');
      expect(await get('/version.txt')).toEqual(servingBefore);
    } finally {
      removeSite(broken.app);
    }
  }, 120_000);

  test('two deploys started together never both switch: the second waits for the lock', async () => {
    ws.setPage('v6');
    const [a, b] = await Promise.all([
      runAction(inputs(), { env: runnerEnv(), workspace: ws.dir, sha: nextSha() }),
      runAction(inputs(), { env: runnerEnv(), workspace: ws.dir, sha: nextSha() }),
    ]);
    expectOk(a);
    expectOk(b);
    const waited = [a, b].filter((r) => r.main.log.includes('waiting up to'));
    expect(waited).toHaveLength(1);
    expect(waited[0]!.main.log).toMatch(/held by run \d+ of acme\/demo by octocat/);
    // they switched one after the other: each saw the other's color as the one serving
    expect(new Set([a.outputs['active-color'], b.outputs['active-color']])).toEqual(
      new Set(['blue', 'green']),
    );
  }, 300_000);

  test('with a short lock-timeout the second deploy fails naming who holds the lock', async () => {
    ws.setPage('v7');
    const [a, b] = await Promise.all([
      runAction(inputs({ drain: '6s' }), { env: runnerEnv(), workspace: ws.dir, sha: nextSha() }),
      new Promise<ActionRun>((resolve) =>
        setTimeout(
          () =>
            resolve(
              runAction(inputs({ 'lock-timeout': '2s' }), {
                env: runnerEnv(),
                workspace: ws.dir,
                sha: nextSha(),
              }),
            ),
          1500,
        ),
      ),
    ]);
    expectOk(a);
    expect(b.main.exitCode).not.toBe(0);
    expect(b.main.log).toMatch(
      /::error::lock: another deploy holds the lock \S+: run \d+ of acme\/demo by octocat on .*, since .*Waited 2 s \(lock-timeout\)/,
    );
  }, 300_000);

  test('command: rollback brings the previous version back in under 10 s', async () => {
    const current = await get('/version.txt');
    const history: string[] = [];
    const t0 = Date.now();
    let backAt = 0;
    const run = runAction(inputs({ command: 'rollback', drain: '2s' }), {
      env: runnerEnv(),
      workspace: ws.dir,
    });
    const watch = (async () => {
      while (backAt === 0 && Date.now() - t0 < 60_000) {
        const v = await get('/version.txt').catch(() => ({ status: 0, body: '' }));
        history.push(v.body);
        if (v.status === 200 && v.body !== current.body) backAt = Date.now() - t0;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const r = await run;
    await watch;
    expectOk(r);
    process.stdout.write(
      `rollback: previous version serving after ${backAt} ms; the run took ${r.main.ms} ms\n`,
    );
    expect(backAt).toBeGreaterThan(0);
    expect(backAt).toBeLessThan(10_000);
    expect(r.outputs['previous-color']).toBeDefined();
    expect(r.summary).toContain('### Rollback');
  }, 120_000);
});
