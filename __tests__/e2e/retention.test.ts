// Retention on the sandbox host: 30 deploys whose dependency layer changes every time (the worst
// case for disk) keep the disk flat with keep-images: 3, and never touch what must stay.
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { expectOk, runAction, type ActionRun } from '../harness/runner.js';
import { remoteDocker, resetApp, runnerEnv, sshInputs } from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

const DEPLOYS = 30;

async function dockerDiskBytes(): Promise<number> {
  const df = (await remoteDocker().df()) as {
    LayersSize: number;
    Containers?: Array<{ SizeRw?: number }>;
    BuildCache?: Array<{ Size: number }>;
  };
  return (
    df.LayersSize +
    (df.Containers ?? []).reduce((a, c) => a + (c.SizeRw ?? 0), 0) +
    (df.BuildCache ?? []).reduce((a, c) => a + c.Size, 0)
  );
}

async function appImages(app: string): Promise<string[]> {
  return (
    await remoteDocker().listImages({ filters: JSON.stringify({ label: [`dev.bluegreen.app=${app}`] }) })
  ).map((i) => i.Id);
}

async function importTiny(repo: string, tag: string): Promise<string> {
  const p = pack();
  p.entry({ name: 'hello.txt' }, 'an image the action must never remove\n');
  p.finalize();
  const stream = (await remoteDocker().importImage(
    Readable.from(p) as never,
    { repo, tag } as never,
  )) as unknown as Readable;
  for await (const _ of stream) void _;
  return (await remoteDocker().getImage(`${repo}:${tag}`).inspect()).Id;
}

async function series(
  app: string,
  ports: string,
  retention: Record<string, string>,
  onDeploy?: (i: number, r: ActionRun) => Promise<void>,
) {
  const ws = appWorkspace();
  const curve: number[] = [];
  let last: ActionRun | undefined;
  for (let i = 1; i <= DEPLOYS; i++) {
    ws.setDeps(4, `deploy ${i} of ${app} ${Date.now()}`);
    ws.setPage(`${app} v${i}`);
    last = await runAction(
      {
        ...sshInputs(),
        image: app,
        'build-network': 'host',
        network: 'host',
        ports,
        proxy: 'none',
        'health-path': '/healthz',
        drain: '0s',
        ...retention,
      },
      { env: runnerEnv(), workspace: ws.dir, sha: nextSha() },
    );
    expectOk(last);
    curve.push(await dockerDiskBytes());
    await onDeploy?.(i, last);
  }
  return { curve, last: last!, imagesAfter: await appImages(app) };
}

const mb = (n: number) => (n / 1e6).toFixed(1);

describe('retention keeps the disk flat', () => {
  let unrelated = '';
  let pinnedImage = '';
  let on: Awaited<ReturnType<typeof series>>;
  let cleanupPinned: ActionRun;
  let cleanupUnpinned: ActionRun;
  let afterPinned: string[] = [];
  let afterUnpinned: string[] = [];
  let off: Awaited<ReturnType<typeof series>>;

  beforeAll(async () => {
    for (const app of ['bgret', 'bgretoff']) await resetApp(app);
    unrelated = await importTiny('unrelated/tool', '1');
    // An unrelated stopped container on the host, using the unrelated image.
    await remoteDocker().createContainer({
      name: 'bgret-unrelated',
      Image: unrelated,
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    on = await series('bgret', '3301,3302', { 'keep-images': '3' });
    // A stopped container of something else that uses an old image of the app: a cleanup with
    // keep-images 1 must leave that one (and the serving and rollback images), and remove it once
    // nothing uses it any more.
    const ids = await appImages('bgret');
    const info = await Promise.all(ids.map((id) => remoteDocker().getImage(id).inspect()));
    pinnedImage = info.sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created))[0]!.Id;
    await remoteDocker().createContainer({
      name: 'bgret-debug',
      Image: pinnedImage,
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    const clean = () =>
      runAction(
        { ...sshInputs(), command: 'cleanup', image: 'bgret', proxy: 'none', 'keep-images': '1' },
        { env: runnerEnv() },
      );
    cleanupPinned = await clean();
    expectOk(cleanupPinned);
    afterPinned = await appImages('bgret');
    await remoteDocker().getContainer('bgret-debug').remove({ force: true });
    cleanupUnpinned = await clean();
    expectOk(cleanupUnpinned);
    afterUnpinned = await appImages('bgret');
    // The same 30 deploys with retention off, for comparison.
    off = await series('bgretoff', '3311,3312', { 'keep-images': '1000', 'prune-dangling': 'false' });
    process.stdout.write(
      `disk (MB) after each deploy, keep-images 3: ${on.curve.map(mb).join(' ')}\n` +
        `disk (MB) after each deploy, retention off: ${off.curve.map(mb).join(' ')}\n`,
    );
  }, 1_800_000);

  afterAll(async () => {
    for (const name of ['bgret-debug', 'bgret-unrelated']) {
      await remoteDocker()
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    }
    await resetApp('bgretoff');
  });

  test('at most 3 images of the app remain after the 30 deploys', () => {
    expect(on.imagesAfter.length).toBeLessThanOrEqual(3);
  });

  test('command: cleanup with keep-images 1 keeps an image a container uses, and removes it once unused', async () => {
    const colors = await remoteDocker().listContainers({
      all: true,
      filters: JSON.stringify({ label: ['dev.bluegreen.app=bgret'] }),
    });
    const serving = new Set(colors.map((c) => c.ImageID));
    expect(serving.size).toBe(2); // the active color and the stopped one a rollback needs
    expect(new Set(afterPinned)).toEqual(new Set([pinnedImage, ...serving]));
    expect(JSON.parse(cleanupPinned.outputs['removed-images']!)).toEqual([]);
    expect(new Set(afterUnpinned)).toEqual(serving);
    const removed = JSON.parse(cleanupUnpinned.outputs['removed-images']!) as Array<{ id: string }>;
    expect(removed.map((r) => r.id)).toEqual([pinnedImage]);
    expect(Number(cleanupUnpinned.outputs['reclaimed-bytes'])).toBeGreaterThan(0);
  });

  test("Docker's disk use after deploy 30 is within 1.05 × of after deploy 3", () => {
    expect(on.curve[DEPLOYS - 1]!).toBeLessThanOrEqual(1.05 * on.curve[2]!);
  });

  test('without retention the same deploys grow the disk (the founding incident)', () => {
    // the off series starts on top of the on series' leftovers: compare its own growth
    expect(off.curve[DEPLOYS - 1]! - off.curve[0]!).toBeGreaterThan(25 * 4e6);
  });

  test('an unrelated image survives, and every image a container uses survives', async () => {
    expect((await remoteDocker().getImage(unrelated).inspect()).Id).toBe(unrelated);
    for (const c of await remoteDocker().listContainers({ all: true })) {
      expect((await remoteDocker().getImage(c.ImageID).inspect()).Id).toBe(c.ImageID);
    }
  });

  test('the last run reports what it removed and reclaimed-bytes > 0', () => {
    expect(Number(on.last.outputs['reclaimed-bytes'])).toBeGreaterThan(0);
    const removed = JSON.parse(on.last.outputs['removed-images']!) as Array<{
      id: string;
      tags: string[];
      size: number;
    }>;
    expect(removed.length).toBeGreaterThan(0);
    expect(removed[0]).toEqual({
      id: expect.stringMatching(/^sha256:/),
      tags: expect.any(Array),
      size: expect.any(Number),
    });
    expect(on.last.summary).toMatch(/### Retention[\s\S]*\| removed \| freed \| why \|/);
    expect(on.last.summary).toContain('xychart-beta');
  });
});
