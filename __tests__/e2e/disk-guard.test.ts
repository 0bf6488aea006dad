// The founding incident on a host with a small disk (a ~1 GB ext4 loop filesystem under its own
// dockerd, reached over SSH like the sandbox host): seed 000's deploy.sh fills it at deploy K; the
// action runs K + 3K deploys on the same disk without running out, makes room on a host left
// full by a hand-written script, and refuses before any change when it cannot.
import Docker from 'dockerode';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runAction } from '../harness/runner.js';
import { builderDocker, runnerEnv, sandbox, SANDBOX_SH, snapshot } from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

const DEPS_MB = 100;
const APP = 'bgsmall';

function smallReset(): void {
  execFileSync('bash', [SANDBOX_SH, 'small-reset'], { stdio: 'pipe' });
}

function smallEnv(): { docker: Docker; port: number; knownHosts: string; dir: string } {
  const out = execFileSync('bash', [SANDBOX_SH, 'env'], { encoding: 'utf8' });
  const env = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return {
    docker: new Docker({ socketPath: env.BGSB_SMALL_DOCKER_HOST!.replace('unix://', '') }),
    port: Number(env.BGSB_SMALL_PORT),
    knownHosts: readFileSync(env.BGSB_SMALL_KNOWN_HOSTS_FILE!, 'utf8'),
    dir: env.BGSB_SMALL_DIR!,
  };
}

function freeBytes(dir: string): number {
  const out = execFileSync('df', ['-P', '-B1', '--', `${dir}/docker`], { encoding: 'utf8' });
  return Number(out.trim().split('\n').pop()!.split(/\s+/)[3]);
}

/** The example app with a dependency layer of DEPS_MB that changes on every deploy. */
function buildOnBuilder(ws: ReturnType<typeof appWorkspace>, tag: string, extra = ''): string {
  ws.setDeps(DEPS_MB, `${tag} ${Date.now()} ${Math.random()}`);
  ws.write(
    'Dockerfile',
    `FROM bgsb/busybox:1\n${extra}WORKDIR /app\nCOPY deps.txt ./\nRUN head -c ${DEPS_MB * 1000000} /dev/urandom > /app/deps.bin\nCOPY src/ /www/\nARG BUILD_TAG=dev\nRUN echo "$BUILD_TAG" > /www/version.txt\nCMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p \${PORT} -h /www & wait"]\n`,
  );
  execFileSync('/usr/bin/docker', ['build', '-q', '--network', 'host', '-t', `${APP}:${tag}`, ws.dir], {
    env: { ...process.env, DOCKER_HOST: `unix://${sandbox().builderSocket}`, DOCKER_BUILDKIT: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return `${APP}:${tag}`;
}

/** `docker save IMAGE | ssh host docker load`, as seed 000's deploy.sh does. */
function saveSshLoad(image: string, port: number): Promise<{ code: number; stderr: string }> {
  const s = sandbox();
  return new Promise((resolve) => {
    const save = spawn('/usr/bin/docker', ['save', image], {
      env: { ...process.env, DOCKER_HOST: `unix://${s.builderSocket}` },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const ssh = spawn(
      'ssh',
      [
        '-i',
        `${s.dir}/deployer_key`,
        '-o',
        `UserKnownHostsFile=${s.dir}/small_known_hosts`,
        '-o',
        'BatchMode=yes',
        '-p',
        String(port),
        `${s.sshUser}@127.0.0.1`,
        'docker',
        'load',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    ssh.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    save.stdout.pipe(ssh.stdin);
    ssh.stdin.on('error', () => undefined);
    ssh.on('exit', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

const mb = (n: number) => (n / 1e6).toFixed(0);
let K = 0;

describe('a host with a small disk', () => {
  test('the incident reproduced: docker save | ssh docker load, start the new color, stop the old, no cleanup → no space left on device at deploy K', async () => {
    smallReset();
    const small = smallEnv();
    const ws = appWorkspace();
    const curve: number[] = [];
    let previous: string | undefined;
    let failure = '';
    for (let k = 1; k <= 20 && !failure; k++) {
      const image = buildOnBuilder(ws, `script-${k}`);
      const load = await saveSshLoad(image, small.port);
      if (load.code !== 0) {
        failure = load.stderr;
        K = k;
        break;
      }
      const color = k % 2 ? 'blue' : 'green';
      const name = `${APP}-script-${color}`;
      await small.docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
      const c = await small.docker
        .createContainer({
          name,
          Image: image,
          Env: [`PORT=${k % 2 ? 3401 : 3402}`],
          HostConfig: { NetworkMode: 'host' },
        })
        .catch((e: Error) => {
          failure = e.message;
          K = k;
          return undefined;
        });
      if (!c) break;
      await c.start();
      if (previous) await small.docker.getContainer(previous).stop({ t: 1 });
      previous = name;
      curve.push(freeBytes(small.dir));
    }
    process.stdout.write(
      `incident: deploy.sh ran out of disk at deploy K=${K}: ${failure.trim().split('\n').pop()}\nfree MB after each script deploy: ${curve.map(mb).join(' ')}\n`,
    );
    expect(K).toBeGreaterThan(1);
    expect(failure).toMatch(/no space left on device/);
  }, 600_000);

  test('prevented: the same K deploys and 3 × K more through the action all succeed, with free space above min-free-space after each', async () => {
    expect(K).toBeGreaterThan(1);
    smallReset();
    const small = smallEnv();
    const s = sandbox();
    const ws = appWorkspace();
    const minFree = 100e6;
    const curve: number[] = [];
    const total = 4 * K;
    for (let i = 1; i <= total; i++) {
      ws.setDeps(DEPS_MB, `action ${i} ${Date.now()}`);
      ws.setPage(`v${i}`);
      ws.write(
        'Dockerfile',
        `FROM bgsb/busybox:1\nWORKDIR /app\nCOPY deps.txt ./\nRUN head -c ${DEPS_MB * 1000000} /dev/urandom > /app/deps.bin\nCOPY src/ /www/\nARG BUILD_TAG=dev\nRUN echo "$BUILD_TAG" > /www/version.txt\nUSER app\nCMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p \${PORT} -h /www & wait"]\n`,
      );
      const r = await runAction(
        {
          host: '127.0.0.1',
          port: String(small.port),
          username: s.sshUser,
          'ssh-key': s.sshKey,
          'known-hosts': small.knownHosts,
          image: APP,
          'build-network': 'host',
          network: 'host',
          ports: '3411,3412',
          proxy: 'none',
          'health-path': '/healthz',
          drain: '0s',
          'min-free-space': '100MB',
        },
        { env: runnerEnv(), workspace: ws.dir, sha: nextSha() },
      );
      if (r.main.exitCode !== 0) throw new Error(`deploy ${i} of ${total} failed:\n${r.log}`);
      const free = freeBytes(small.dir);
      curve.push(free);
      expect(free).toBeGreaterThan(minFree);
      expect(Number(r.outputs['disk-free-after'])).toBeGreaterThan(minFree);
    }
    process.stdout.write(
      `prevented: ${total} deploys through the action (K=${K}); free MB after each: ${curve.map(mb).join(' ')}\n`,
    );
  }, 1_800_000);

  describe('a host left nearly full by a hand-written script', () => {
    let small: ReturnType<typeof smallEnv>;
    const inputs = (over: Record<string, string> = {}) => ({
      host: '127.0.0.1',
      port: String(small.port),
      username: sandbox().sshUser,
      'ssh-key': sandbox().sshKey,
      'known-hosts': small.knownHosts,
      image: APP,
      'build-network': 'host',
      network: 'host',
      ports: '3421,3422',
      proxy: 'none',
      'health-path': '/healthz',
      drain: '0s',
      'min-free-space': '100MB',
      ...over,
    });
    const ws = appWorkspace();
    // The action deploys a new version whose dependency layer changed (a grown image, new deps).
    const app = appWorkspace();
    const newVersion = (page: string) => {
      app.setDeps(DEPS_MB, `${page} ${Date.now()}`);
      app.setPage(page);
      app.write(
        'Dockerfile',
        `FROM bgsb/busybox:1\nWORKDIR /app\nCOPY deps.txt ./\nRUN head -c ${DEPS_MB * 1000000} /dev/urandom > /app/deps.bin\nCOPY src/ /www/\nARG BUILD_TAG=dev\nRUN echo "$BUILD_TAG" > /www/version.txt\nUSER app\nCMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p \${PORT} -h /www & wait"]\n`,
      );
      return app.dir;
    };

    beforeAll(async () => {
      smallReset();
      small = smallEnv();
      // Old images of the same repository (no labels of the action), each build re-using the same
      // tag so the earlier ones become dangling, until less than one image's worth is free.
      for (let k = 1; freeBytes(small.dir) > 2.5 * DEPS_MB * 1e6 && k < 20; k++) {
        const image = buildOnBuilder(ws, k % 3 === 0 ? `old-${k}` : 'latest', 'LABEL legacy=true\n');
        const load = await saveSshLoad(image, small.port);
        if (load.code !== 0) break;
      }
      process.stdout.write(
        `filled: ${mb(freeBytes(small.dir))} MB free, ${(await small.docker.listImages()).length} images\n`,
      );
    }, 600_000);

    test('with those images protected, the run fails before any change naming needed and free bytes', async () => {
      const before = await snapshot(small.docker);
      const r = await runAction(inputs({ 'protect-labels': 'legacy=true' }), {
        env: runnerEnv(),
        workspace: newVersion('protected'),
        sha: nextSha(),
      });
      if (r.main.exitCode === 0) throw new Error(`the run should have been refused:\n${r.log}`);
      expect(r.main.log).toMatch(
        /::error::guard: not enough disk on deployer@\[127\.0\.0\.1\]:\d+ for this deploy: it needs [\d.]+ MB free .*, [\d.]+ MB is free, and retention may free only .* Nothing was changed on the host/,
      );
      expect(r.summary).toContain('### Disk guard');
      expect(r.summary).toMatch(/\| `protect-labels: \(none\)` \| [\d.]+ MB \|/);
      expect(await snapshot(small.docker)).toBe(before);
    }, 300_000);

    test('without protection, the first deploy frees room before shipping and succeeds', async () => {
      const r = await runAction(inputs(), {
        env: runnerEnv(),
        workspace: newVersion('frees room'),
        sha: nextSha(),
      });
      if (r.main.exitCode !== 0) throw new Error(r.log);
      expect(r.main.log).toMatch(/short by [\d.]+ [KM]?B: planning retention to make room first/);
      expect(r.main.log).toMatch(/made room: \d+ image\(s\) removed/);
      process.stdout.write(`filled host: ${/made room: .*/.exec(r.main.log)?.[0]}\n`);
      const guard = r.main.log.indexOf('made room');
      const ship = r.main.log.indexOf('::group::Send');
      expect(guard).toBeGreaterThan(0);
      expect(ship).toBeGreaterThan(guard);
      expect(Number(r.outputs['disk-free-before'])).toBeLessThan(
        Number(r.outputs['disk-free-after']) + DEPS_MB * 1e6,
      );
    }, 300_000);
  });

  test('self-hosted (no host): 10 builds with build-cache-budget keep the builder’s build cache under the budget', async () => {
    const ws = appWorkspace();
    // A build stage the final image does not keep (dev dependencies, a compiler's output): its
    // layers stay behind as build cache, the kind that piles up on a self-hosted runner.
    ws.write(
      'Dockerfile',
      'FROM bgsb/busybox:1 AS deps\nCOPY deps.txt /deps.txt\nRUN head -c 20000000 /dev/urandom > /deps.bin\nFROM bgsb/busybox:1\nCOPY --from=deps /deps.txt /deps.txt\n',
    );
    const budget = 50e6;
    const cacheNow = async () => {
      const df = (await builderDocker().df()) as { BuildCache?: Array<{ Size: number; Shared: boolean }> };
      return (df.BuildCache ?? []).filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
    };
    // Without a budget the cache mount grows with every build...
    const grows: number[] = [];
    for (let i = 1; i <= 4; i++) {
      ws.setDeps(1, `no budget ${i} ${Date.now()}`);
      const r = await runAction(
        { command: 'build', image: 'bgcache', 'build-network': 'host' },
        { env: runnerEnv(), workspace: ws.dir, sha: nextSha() },
      );
      if (r.main.exitCode !== 0) throw new Error(r.log);
      grows.push(await cacheNow());
    }
    process.stdout.write(`builder build cache (MB) without a budget: ${grows.map(mb).join(' ')}\n`);
    expect(grows[3]!).toBeGreaterThan(budget);
    // ...and with one, 10 builds stay under it.
    const sizes: number[] = [];
    for (let i = 1; i <= 10; i++) {
      ws.setDeps(1, `cache ${i} ${Date.now()}`);
      const r = await runAction(
        { command: 'build', image: 'bgcache', 'build-network': 'host', 'build-cache-budget': '50MB' },
        { env: runnerEnv(), workspace: ws.dir, sha: nextSha() },
      );
      if (r.main.exitCode !== 0) throw new Error(r.log);
      const cache = await cacheNow();
      sizes.push(cache);
      expect(cache).toBeLessThanOrEqual(budget);
    }
    process.stdout.write(
      `builder build cache (MB) after each of 10 builds, budget 50 MB: ${sizes.map(mb).join(' ')}\n`,
    );
  }, 600_000);
});
