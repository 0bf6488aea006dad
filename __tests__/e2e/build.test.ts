// The build step through the runner-faithful harness: BuildKit, stamped with the build tag, for
// the sandbox host's platform, cache reuse on a source-only change, and clear failures.
import type Docker from 'dockerode';
import { extract } from 'tar-stream';
import type { Readable } from 'node:stream';
import { expectOk, runAction, type ActionRun } from '../harness/runner.js';
import { builderDocker, remoteDocker, runnerEnv, sshInputs } from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

const APP = 'bgbuild';

const build = (ws: { dir: string }, over: Record<string, string> = {}, sha = nextSha()) =>
  runAction(
    { ...sshInputs(), command: 'build', image: APP, 'build-network': 'host', ...over },
    { env: runnerEnv(), workspace: ws.dir, sha },
  );

/** Reads one file out of an image, through a created (never started) container. */
async function fileInImage(docker: Docker, image: string, path: string): Promise<string> {
  const c = await docker.createContainer({ Image: image, HostConfig: { NetworkMode: 'none' } });
  try {
    const tar = (await c.getArchive({ path })) as unknown as Readable;
    const ex = extract();
    let content = '';
    ex.on('entry', (_h, stream, next) => {
      stream.on('data', (d: unknown) => (content += String(d)));
      stream.on('end', next);
    });
    await new Promise<void>((resolve, reject) => {
      ex.on('finish', resolve);
      ex.on('error', reject);
      tar.pipe(ex);
    });
    return content;
  } finally {
    await c.remove({ force: true });
  }
}

describe('build', () => {
  const ws = appWorkspace();
  let first: ActionRun;
  const sha = nextSha();
  // Page contents unique to this run, so an earlier run's build cache cannot answer for them.
  const nonce = nextSha().slice(0, 12);

  test('a build of the fixture app yields <image>:<build-tag>, labelled and stamped, for the host platform', async () => {
    ws.setPage(`build one ${nonce}`);
    first = await build(ws, {}, sha);
    expectOk(first);
    const tag = first.outputs['build-tag']!;
    expect(tag).toMatch(new RegExp(`^\\d{14}-${sha.slice(0, 7)}$`));
    expect(first.outputs.image).toBe(`${APP}:${tag}`);
    expect(first.outputs['image-id']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Number(first.outputs['image-size'])).toBeGreaterThan(1_000_000);
    const host = await remoteDocker().version();
    expect(first.outputs.platform).toBe(`${host.Os}/${host.Arch}`);
    expect(first.main.log).toContain('builder: docker buildx is missing; docker 20.10');
    const info = await builderDocker().getImage(first.outputs.image!).inspect();
    expect(info.Id).toBe(first.outputs['image-id']);
    expect(info.Config.Labels).toMatchObject({
      'dev.bluegreen.build-tag': tag,
      'dev.bluegreen.app': APP,
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.version': tag,
      'org.opencontainers.image.source': 'https://github.com/acme/demo',
      'dev.bluegreen.base-image': 'bgsb/busybox:1',
    });
    // the build-arg is visible inside the image: in its env and in the file the Dockerfile writes
    expect(info.Config.Env).toContain(`BUILD_TAG=${tag}`);
    expect((await fileInImage(builderDocker(), first.outputs.image!, '/www/version.txt')).trim()).toBe(tag);
    expect(first.summary).toContain('### Build');
  });

  test('after a source-only change the dependency layer is reused and only the steps after the cache-bust point rerun', async () => {
    ws.setPage(`build two ${nonce}`);
    const second = await build(ws);
    expectOk(second);
    const a = await builderDocker().getImage(first.outputs['image-id']!).inspect();
    const b = await builderDocker().getImage(second.outputs['image-id']!).inspect();
    // base, WORKDIR, COPY deps.txt, RUN (the dependency layer): the same layers
    expect(b.RootFS.Layers!.slice(0, 4)).toEqual(a.RootFS.Layers!.slice(0, 4));
    expect(b.RootFS.Layers![4]).not.toBe(a.RootFS.Layers![4]);
    const ran = /steps run: (.*)$/m.exec(second.main.log)?.[1];
    expect(ran?.split(' · ')).toEqual([
      '[5/6] COPY src/ /www/',
      expect.stringMatching(/^\[6\/6\] RUN echo "\d{14}-[0-9a-f]{7}" > \/www\/version\.txt/),
    ]);
    expect(second.main.log).toMatch(/2 of 5 step\(s\) run, 3 cached/);
  });

  test('without a host the platform is the runner daemon’s', async () => {
    const r = await runAction(
      { command: 'build', image: APP, 'build-network': 'host' },
      { env: runnerEnv(), workspace: ws.dir, sha: nextSha() },
    );
    expectOk(r);
    const v = await builderDocker().version();
    expect(r.outputs.platform).toBe(`${v.Os}/${v.Arch}`);
    expect(r.main.log).toContain("the platform of the runner's Docker daemon");
  });

  test('max-image-size fails the run when the image is larger, after the layer report', async () => {
    const r = await build(ws, { 'max-image-size': '1MB' });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /^::error::build: input 'max-image-size': bgbuild:\S+ is [\d.]+ MB, over the limit of 1\.00 MB; see the layer table in the job summary/m,
    );
    expect(r.summary).toMatch(/### Image[\s\S]*\| layer \|/);
  });

  test('a missing Dockerfile fails with one clear line', async () => {
    const r = await build(ws, { file: 'nope/Dockerfile' });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /^::error::build: input 'file': no Dockerfile at nope\/Dockerfile; set 'file' or 'context'$/m,
    );
  });

  test('a failing RUN step fails with one line naming the step and its last output', async () => {
    const bad = appWorkspace();
    bad.write(
      'Dockerfile',
      'FROM bgsb/busybox:1\nRUN echo compiling && echo "boom: missing header foo.h" && exit 3\n',
    );
    const r = await build(bad);
    expect(r.main.exitCode).not.toBe(0);
    const errors = r.main.log.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^::error::build: step \[2\/2\] RUN echo compiling .* failed: .*exit code: 3; last output: .*boom: missing header foo\.h/,
    );
  });

  test('a bad target fails with one line listing the stages', async () => {
    const staged = appWorkspace();
    staged.write('Dockerfile', 'FROM bgsb/busybox:1 AS base\nFROM base AS runner\nCMD ["true"]\n');
    const r = await build(staged, { target: 'prod' });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(
      /^::error::build: input 'target': no stage named prod in Dockerfile \(stages: base, runner\)$/m,
    );
  });

  test('a build tag used before expensive steps is annotated at its line with how many steps rerun', async () => {
    const early = appWorkspace();
    early.write(
      'Dockerfile',
      'FROM bgsb/busybox:1\nARG BUILD_TAG\nRUN echo "$BUILD_TAG" > /tag\nCOPY deps.txt /app/\nRUN make -C /app || true\nCOPY src/ /www/\n',
    );
    const r = await build(early);
    expectOk(r);
    expect(r.main.log).toMatch(
      /^::warning title=Dockerfile advice%3A cache-bust-early,file=Dockerfile,line=2,endLine=2::ARG BUILD_TAG changes on every build and comes before 1 expensive step\(s\) \(line 5\): every deploy reruns 4 build step\(s\) — .*line 5/m,
    );
    expect(r.outputs['lint-findings']).toBeDefined();
  });
});
