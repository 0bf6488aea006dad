// Shipping over SSH: the first deploy sends every layer, a source-only change sends only the
// changed layers, the host ends up with the very image ID that was built, and a connection cut
// mid-transfer leaves the host unchanged and a rerun succeeds.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { expectOk, runAction, type ActionRun } from '../harness/runner.js';
import { builderDocker, remoteDocker, resetApp, runnerEnv, snapshot, sshInputs } from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

const APP = 'bgship';

/** A workspace whose base layer is unique to this run (busybox copied in FROM scratch), so the host has none of it. */
function uniqueWorkspace() {
  const ws = appWorkspace();
  const root = path.join(ws.dir, 'rootfs');
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)) {
    if (applet !== 'busybox' && !existsSync(path.join(root, 'bin', applet)))
      symlinkSync('busybox', path.join(root, 'bin', applet));
  }
  ws.write('rootfs/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n');
  ws.write('rootfs/etc/nonce', nextSha() + '\n');
  ws.write(
    'Dockerfile',
    'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nWORKDIR /app\nCOPY deps.txt ./\nRUN DEPS_MB=$(head -n1 deps.txt | tr -dc 0-9); head -c $((DEPS_MB * 1000000)) /dev/urandom > /app/deps.bin\nCOPY src/ /www/\nARG BUILD_TAG=dev\nRUN echo "$BUILD_TAG" > /www/version.txt\nUSER app\nCMD ["sh", "-c", "trap \'exit 0\' TERM; httpd -f -p ${PORT} -h /www & wait"]\n',
  );
  return ws;
}

const inputs = {
  ...sshInputs(),
  image: APP,
  'build-network': 'host',
  network: 'host',
  ports: '3801,3802',
  proxy: 'none',
  'health-path': '/healthz',
  drain: '0s',
};

describe('ship over SSH', () => {
  const ws = uniqueWorkspace();
  let first: ActionRun;

  beforeAll(() => resetApp(APP));

  test('the first deploy sends every layer and the host has the exact image ID that was built', async () => {
    ws.setDeps(20, `first ${Date.now()}`);
    ws.setPage('ship one');
    first = await runAction(inputs, { env: runnerEnv(), workspace: ws.dir, sha: nextSha() });
    expectOk(first);
    const built = await builderDocker().getImage(first.outputs['image-id']!).inspect();
    expect(first.outputs['layers-skipped']).toBe('0');
    expect(first.outputs['layers-sent']).toBe(String(built.RootFS.Layers!.length));
    expect(Number(first.outputs['bytes-sent'])).toBeGreaterThan(20e6);
    expect((await remoteDocker().getImage(first.outputs.image!).inspect()).Id).toBe(built.Id);
    expect(first.summary).toMatch(/### Ship[\s\S]*\| ssh \(missing layers only\) \|/);
  });

  test('after a source-only change only the changed layers are sent', async () => {
    ws.setPage('ship two');
    const r = await runAction(inputs, { env: runnerEnv(), workspace: ws.dir, sha: nextSha() });
    expectOk(r);
    const built = await builderDocker().getImage(r.outputs['image-id']!).inspect();
    // base, WORKDIR, deps.txt and the 20 MB dependency layer are on the host already
    expect(r.outputs['layers-skipped']).toBe('4');
    expect(r.outputs['layers-sent']).toBe(String(built.RootFS.Layers!.length - 4));
    expect(Number(r.outputs['bytes-sent'])).toBeLessThan(50_000);
    expect((await remoteDocker().getImage(r.outputs.image!).inspect()).Id).toBe(built.Id);
  });

  test('a connection cut mid-transfer leaves the host unchanged, and a rerun succeeds', async () => {
    ws.setDeps(200, `cut ${Date.now()}`);
    ws.setPage('ship three');
    const sha = nextSha();
    const before = await snapshot(remoteDocker());
    let cut = false;
    const r = await runAction(inputs, {
      env: runnerEnv(),
      workspace: ws.dir,
      sha,
      onStart: (pid) => {
        const log = readlinkSync(`/proc/${pid}/fd/1`);
        const timer = setInterval(() => {
          if (!existsSync(log) || !readFileSync(log, 'utf8').includes('::group::Send')) return;
          clearInterval(timer);
          setTimeout(() => {
            // kill the sshd session of the action's one connection: the link is gone mid-stream
            execFileSync('pkill', ['-KILL', '-f', '^sshd: deployer']);
            cut = true;
          }, 300);
        }, 20);
      },
    });
    expect(cut).toBe(true);
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /::error::(ship: sending \S+ to \S+ failed after .*rerun the deploy|.*(connection|ECONNRESET|socket|closed).*)/i,
    );
    expect(await snapshot(remoteDocker())).toBe(before);
    // the rerun (same commit, the lock released by the post step) succeeds
    const again = await runAction(inputs, { env: runnerEnv(), workspace: ws.dir, sha });
    expectOk(again);
    expect((await remoteDocker().getImage(again.outputs.image!).inspect()).Id).toBe(
      again.outputs['image-id'],
    );
  }, 300_000);
});
