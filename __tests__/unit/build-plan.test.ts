// The build as a value: which builder, which cache, and the exact docker argv. No docker runs here.
import { parseConfig, type InputName } from '../../src/config/parse.js';
import type { BuildConfig, CacheMode, GithubContext } from '../../src/config/schema.js';
import {
  buildCommand,
  chooseBuilder,
  resolveCache,
  type Builder,
  type BuildInvocation,
  type CacheEnv,
  type ResolvedCache,
} from '../../src/build/plan.js';

const BUILDX: Builder = { kind: 'buildx', version: 'github.com/docker/buildx v0.12.1 30feaa1' };
const BUILDKIT: Builder = { kind: 'buildkit', clientVersion: '20.10.24' };

const ENV: CacheEnv = {
  ghaAvailable: true,
  localDir: '/tmp/runner/bluegreen-buildx-cache',
  scope: 'myapp-linux_amd64',
};

function build(over: Partial<BuildConfig> = {}): BuildConfig {
  return {
    context: '/work/app',
    file: '/work/app/Dockerfile',
    tags: ['ghcr.io/acme/myapp:20261201093005-abcdef0'],
    platforms: 'auto',
    buildArgs: [],
    buildTag: '20261201093005-abcdef0',
    buildTagArg: 'BUILD_TAG',
    labels: [],
    cache: 'auto',
    noCache: false,
    push: false,
    lint: 'warn',
    ...over,
  };
}

const NO_CACHE: ResolvedCache = { mode: 'off', args: [], why: 'cache: off' };

function inv(over: Partial<BuildInvocation> = {}): BuildInvocation {
  return {
    builder: BUILDX,
    build: build(),
    platforms: ['linux/amd64'],
    labels: [],
    cache: NO_CACHE,
    iidFile: '/tmp/b/iid',
    metadataFile: '/tmp/b/metadata.json',
    ...over,
  };
}

function ok<T>(c: { ok: true; value: T; why: string } | { ok: false; error: string }): {
  value: T;
  why: string;
} {
  if (!c.ok) throw new Error(`expected ok, got error: ${c.error}`);
  return c;
}
function err(c: { ok: true; why: string } | { ok: false; error: string }): string {
  if (c.ok) throw new Error(`expected an error, got ok: ${c.why}`);
  return c.error;
}

describe('chooseBuilder', () => {
  it('uses buildx whenever it is present, whatever the client version', () => {
    for (const clientVersion of [undefined, '20.10.24', '23.0.0', '27.3.1']) {
      const c = ok(
        chooseBuilder({
          buildx: 'github.com/docker/buildx v0.17.1 257815a',
          ...(clientVersion ? { clientVersion } : {}),
        }),
      );
      expect(c.value).toEqual({ kind: 'buildx', version: 'github.com/docker/buildx v0.17.1 257815a' });
      expect(c.why).toContain('buildx');
      expect(c.why).toContain('v0.17.1');
    }
  });

  it.each(['20.10.24', '19.03.15', '22.06.0-beta.0', '18.09.9'])(
    'uses the built-in BuildKit of client %s without buildx',
    (clientVersion) => {
      const c = ok(chooseBuilder({ clientVersion }));
      expect(c.value).toEqual({ kind: 'buildkit', clientVersion });
      expect(c.why).toContain(clientVersion);
      expect(c.why).toContain('DOCKER_BUILDKIT=1');
    },
  );

  it.each(['23.0.0', '24.0.7', '27.3.1', '100.0.0'])(
    'refuses client %s without buildx (only the legacy builder would be left), naming buildx',
    (clientVersion) => {
      const e = err(chooseBuilder({ clientVersion }));
      expect(e).toContain(clientVersion);
      expect(e).toMatch(/buildx/);
      expect(e).toContain('docker-buildx-plugin');
    },
  );

  it('refuses a client version it cannot read rather than guessing BuildKit', () => {
    expect(chooseBuilder({ clientVersion: 'unknown' }).ok).toBe(false);
  });

  it('refuses when there is no docker client at all', () => {
    for (const p of [{}, { clientVersion: '' }, { buildx: '' }]) {
      const e = err(chooseBuilder(p));
      expect(e).toMatch(/no docker client/);
      expect(e).toMatch(/buildx/);
    }
  });

  it('an empty buildx string is not buildx', () => {
    expect(ok(chooseBuilder({ buildx: '', clientVersion: '20.10.7' })).value.kind).toBe('buildkit');
  });
});

describe('resolveCache', () => {
  const GHA_ARGS = [
    '--cache-from',
    'type=gha,scope=myapp-linux_amd64',
    '--cache-to',
    'type=gha,scope=myapp-linux_amd64,mode=max',
  ];
  const LOCAL_ARGS = [
    '--cache-from',
    'type=local,src=/tmp/runner/bluegreen-buildx-cache',
    '--cache-to',
    'type=local,dest=/tmp/runner/bluegreen-buildx-cache-new,mode=max',
  ];

  describe('auto', () => {
    it('picks gha with buildx and the Actions cache service', () => {
      const c = ok(resolveCache('auto', BUILDX, ENV));
      expect(c.value.mode).toBe('gha');
      expect(c.value.args).toEqual(GHA_ARGS);
      expect(c.value.newLocalDir).toBeUndefined();
      expect(c.why).toMatch(/^auto → /);
    });

    it('picks local with buildx and no Actions cache service', () => {
      const c = ok(resolveCache('auto', BUILDX, { ...ENV, ghaAvailable: false }));
      expect(c.value.mode).toBe('local');
      expect(c.value.args).toEqual(LOCAL_ARGS);
      expect(c.value.newLocalDir).toBe('/tmp/runner/bluegreen-buildx-cache-new');
      expect(c.why).toMatch(/^auto → /);
    });

    it.each([true, false])(
      'uses the builder daemon cache without buildx (gha available: %s)',
      (ghaAvailable) => {
        const c = ok(
          resolveCache('auto', BUILDKIT, { ...ENV, ghaAvailable, previousImage: 'ghcr.io/acme/myapp:old' }),
        );
        expect(c.value.mode).toBe('daemon');
        expect(c.value.args).toEqual([]);
        expect(c.value.newLocalDir).toBeUndefined();
        expect(c.why).toMatch(/^auto → .*daemon/);
      },
    );
  });

  describe('gha', () => {
    it('with buildx and the cache service: gha, scoped', () => {
      const c = ok(resolveCache('gha', BUILDX, ENV));
      expect(c.value.mode).toBe('gha');
      expect(c.value.args).toEqual(GHA_ARGS);
    });

    it('the scope comes from the env', () => {
      const c = ok(resolveCache('gha', BUILDX, { ...ENV, scope: 'other-linux_arm64' }));
      expect(c.value.args).toEqual([
        '--cache-from',
        'type=gha,scope=other-linux_arm64',
        '--cache-to',
        'type=gha,scope=other-linux_arm64,mode=max',
      ]);
    });

    it('with buildx but no cache service: an error naming the missing service', () => {
      const e = err(resolveCache('gha', BUILDX, { ...ENV, ghaAvailable: false }));
      expect(e).toMatch(/^cache: gha/);
      expect(e).toContain('ACTIONS_RUNTIME_TOKEN');
    });

    it.each([true, false])('without buildx: an error naming buildx (gha available: %s)', (ghaAvailable) => {
      const e = err(resolveCache('gha', BUILDKIT, { ...ENV, ghaAvailable }));
      expect(e).toMatch(/^cache: gha needs docker buildx/);
    });
  });

  describe('local', () => {
    it.each([true, false])(
      'with buildx: local, written to a new directory (gha available: %s)',
      (ghaAvailable) => {
        const c = ok(resolveCache('local', BUILDX, { ...ENV, ghaAvailable }));
        expect(c.value.mode).toBe('local');
        expect(c.value.args).toEqual(LOCAL_ARGS);
        expect(c.value.newLocalDir).toBe(`${ENV.localDir}-new`);
        expect(c.why).toContain(ENV.localDir);
      },
    );

    it.each([true, false])('without buildx: an error naming buildx (gha available: %s)', (ghaAvailable) => {
      const e = err(resolveCache('local', BUILDKIT, { ...ENV, ghaAvailable }));
      expect(e).toMatch(/^cache: local needs docker buildx/);
    });
  });

  describe('inline', () => {
    it.each([BUILDX, BUILDKIT])('with a previous image: inline metadata and --cache-from it ($kind)', (b) => {
      const c = ok(
        resolveCache('inline', b, { ...ENV, previousImage: 'ghcr.io/acme/myapp:20261130000000-1234567' }),
      );
      expect(c.value.mode).toBe('inline');
      expect(c.value.args).toEqual([
        '--build-arg',
        'BUILDKIT_INLINE_CACHE=1',
        '--cache-from',
        'ghcr.io/acme/myapp:20261130000000-1234567',
      ]);
      expect(c.why).toContain('ghcr.io/acme/myapp:20261130000000-1234567');
    });

    it.each([BUILDX, BUILDKIT])('without a previous image: only the inline metadata ($kind)', (b) => {
      const c = ok(resolveCache('inline', b, ENV));
      expect(c.value.mode).toBe('inline');
      expect(c.value.args).toEqual(['--build-arg', 'BUILDKIT_INLINE_CACHE=1']);
      expect(c.why).toMatch(/no previous image/);
    });
  });

  describe('off', () => {
    it.each([
      ['buildx', BUILDX, true],
      ['buildx', BUILDX, false],
      ['buildkit', BUILDKIT, true],
      ['buildkit', BUILDKIT, false],
    ] as const)('no cache arguments (%s, gha available: %s)', (_, b, ghaAvailable) => {
      const c = ok(resolveCache('off', b, { ...ENV, ghaAvailable, previousImage: 'x:y' }));
      expect(c.value).toEqual({ mode: 'off', args: [], why: 'cache: off' });
    });
  });

  it('every mode × builder × gha availability: ok exactly where the rules allow it', () => {
    const modes: CacheMode[] = ['auto', 'gha', 'local', 'inline', 'off'];
    const seen: string[] = [];
    for (const mode of modes)
      for (const b of [BUILDX, BUILDKIT])
        for (const ghaAvailable of [true, false]) {
          const c = resolveCache(mode, b, { ...ENV, ghaAvailable });
          seen.push(`${mode}/${b.kind}/${ghaAvailable}:${c.ok ? c.value.mode : 'error'}`);
        }
    expect(seen).toEqual([
      'auto/buildx/true:gha',
      'auto/buildx/false:local',
      'auto/buildkit/true:daemon',
      'auto/buildkit/false:daemon',
      'gha/buildx/true:gha',
      'gha/buildx/false:error',
      'gha/buildkit/true:error',
      'gha/buildkit/false:error',
      'local/buildx/true:local',
      'local/buildx/false:local',
      'local/buildkit/true:error',
      'local/buildkit/false:error',
      'inline/buildx/true:inline',
      'inline/buildx/false:inline',
      'inline/buildkit/true:inline',
      'inline/buildkit/false:inline',
      'off/buildx/true:off',
      'off/buildx/false:off',
      'off/buildkit/true:off',
      'off/buildkit/false:off',
    ]);
  });
});

describe('buildCommand', () => {
  const FULL = build({
    tags: [
      'ghcr.io/acme/myapp:20261201093005-abcdef0',
      'ghcr.io/acme/myapp:latest',
      'ghcr.io/acme/myapp:v1.2.0',
    ],
    buildArgs: [
      ['NODE_ENV', 'production'],
      ['GREETING', 'hello world'],
    ],
    target: 'runner',
    network: 'host',
    noCache: true,
  });
  const LABELS = [
    ['org.opencontainers.image.title', 'myapp'],
    ['dev.bluegreen.app', 'myapp'],
  ] as const;
  const CACHE: ResolvedCache = {
    mode: 'local',
    args: ['--cache-from', 'type=local,src=/c', '--cache-to', 'type=local,dest=/c-new,mode=max'],
    why: 'x',
    newLocalDir: '/c-new',
  };

  it('buildx: the exact argv, in order, and no env', () => {
    const cmd = buildCommand(
      inv({ build: FULL, labels: LABELS, platforms: ['linux/amd64', 'linux/arm64'], cache: CACHE }),
    );
    expect(cmd.args).toEqual([
      'buildx',
      'build',
      '--progress',
      'plain',
      '--file',
      '/work/app/Dockerfile',
      '--iidfile',
      '/tmp/b/iid',
      '--tag',
      'ghcr.io/acme/myapp:20261201093005-abcdef0',
      '--tag',
      'ghcr.io/acme/myapp:latest',
      '--tag',
      'ghcr.io/acme/myapp:v1.2.0',
      '--build-arg',
      'NODE_ENV=production',
      '--build-arg',
      'GREETING=hello world',
      '--build-arg',
      'BUILD_TAG=20261201093005-abcdef0',
      '--label',
      'org.opencontainers.image.title=myapp',
      '--label',
      'dev.bluegreen.app=myapp',
      '--platform',
      'linux/amd64,linux/arm64',
      '--target',
      'runner',
      '--network',
      'host',
      '--no-cache',
      '--cache-from',
      'type=local,src=/c',
      '--cache-to',
      'type=local,dest=/c-new,mode=max',
      '--metadata-file',
      '/tmp/b/metadata.json',
      '--load',
      '/work/app',
    ]);
    expect(cmd.env).toEqual({});
  });

  it('buildx with push: --push instead of --load', () => {
    const cmd = buildCommand(inv({ build: build({ push: true }) }));
    expect(cmd.args).toContain('--push');
    expect(cmd.args).not.toContain('--load');
    expect(cmd.args.slice(-4)).toEqual(['--metadata-file', '/tmp/b/metadata.json', '--push', '/work/app']);
  });

  it('built-in BuildKit: `docker build`, DOCKER_BUILDKIT=1, no --metadata-file/--push/--load', () => {
    const cmd = buildCommand(
      inv({
        builder: BUILDKIT,
        build: { ...FULL, push: true },
        labels: LABELS,
        platforms: ['linux/amd64'],
        cache: {
          mode: 'inline',
          args: ['--build-arg', 'BUILDKIT_INLINE_CACHE=1', '--cache-from', 'ghcr.io/acme/myapp:prev'],
          why: 'x',
        },
      }),
    );
    expect(cmd.args).toEqual([
      'build',
      '--progress',
      'plain',
      '--file',
      '/work/app/Dockerfile',
      '--iidfile',
      '/tmp/b/iid',
      '--tag',
      'ghcr.io/acme/myapp:20261201093005-abcdef0',
      '--tag',
      'ghcr.io/acme/myapp:latest',
      '--tag',
      'ghcr.io/acme/myapp:v1.2.0',
      '--build-arg',
      'NODE_ENV=production',
      '--build-arg',
      'GREETING=hello world',
      '--build-arg',
      'BUILD_TAG=20261201093005-abcdef0',
      '--label',
      'org.opencontainers.image.title=myapp',
      '--label',
      'dev.bluegreen.app=myapp',
      '--platform',
      'linux/amd64',
      '--target',
      'runner',
      '--network',
      'host',
      '--no-cache',
      '--build-arg',
      'BUILDKIT_INLINE_CACHE=1',
      '--cache-from',
      'ghcr.io/acme/myapp:prev',
      '/work/app',
    ]);
    expect(cmd.env).toEqual({ DOCKER_BUILDKIT: '1' });
    for (const flag of ['--metadata-file', '--push', '--load']) expect(cmd.args).not.toContain(flag);
  });

  it('leaves out what is not set: no platform, target, network, --no-cache or cache args', () => {
    const cmd = buildCommand(inv({ platforms: [] }));
    expect(cmd.args).toEqual([
      'buildx',
      'build',
      '--progress',
      'plain',
      '--file',
      '/work/app/Dockerfile',
      '--iidfile',
      '/tmp/b/iid',
      '--tag',
      'ghcr.io/acme/myapp:20261201093005-abcdef0',
      '--build-arg',
      'BUILD_TAG=20261201093005-abcdef0',
      '--metadata-file',
      '/tmp/b/metadata.json',
      '--load',
      '/work/app',
    ]);
    for (const flag of ['--platform', '--target', '--network', '--no-cache', '--cache-from', '--label'])
      expect(cmd.args).not.toContain(flag);
  });

  it('the build-tag arg uses the configured name and comes after every user build arg', () => {
    const cmd = buildCommand(
      inv({
        build: build({
          buildTagArg: 'APP_VERSION',
          buildTag: 'v9',
          buildArgs: [
            ['A', '1'],
            ['Z', '2'],
          ],
        }),
      }),
    );
    const buildArgs = cmd.args.flatMap((a, i) => (cmd.args[i - 1] === '--build-arg' ? [a] : []));
    expect(buildArgs).toEqual(['A=1', 'Z=2', 'APP_VERSION=v9']);
  });

  it('the context is always the last argument', () => {
    for (const builder of [BUILDX, BUILDKIT])
      for (const push of [true, false]) {
        const cmd = buildCommand(inv({ builder, build: build({ push, context: '/ctx dir' }) }));
        expect(cmd.args[cmd.args.length - 1]).toBe('/ctx dir');
        expect(cmd.args.filter((a) => a === '/ctx dir')).toHaveLength(1);
      }
  });

  it('values with spaces, = and shell metacharacters stay single argv items, unchanged', () => {
    const nasty = [
      'two words',
      'a=b=c',
      '$(rm -rf /)',
      '`id`',
      "it's",
      '"quoted"',
      'x; y && z | w > f',
      '*',
      '${HOME}',
      '--tag=evil',
    ];
    const cmd = buildCommand(
      inv({
        build: build({
          context: '/work/my app; echo',
          file: '/work/my app; echo/Docker file',
          buildArgs: nasty.map((v, i) => [`ARG${i}`, v] as const),
          target: 'runner',
        }),
        labels: nasty.map((v, i) => [`org.example.l${i}`, v] as const),
        iidFile: '/tmp/with space/iid',
        metadataFile: '/tmp/with space/$meta.json',
      }),
    );
    for (const [i, v] of nasty.entries()) {
      const a = cmd.args.indexOf(`ARG${i}=${v}`);
      expect(a).toBeGreaterThan(0);
      expect(cmd.args[a - 1]).toBe('--build-arg');
      const l = cmd.args.indexOf(`org.example.l${i}=${v}`);
      expect(l).toBeGreaterThan(0);
      expect(cmd.args[l - 1]).toBe('--label');
    }
    expect(cmd.args[cmd.args.indexOf('--file') + 1]).toBe('/work/my app; echo/Docker file');
    expect(cmd.args[cmd.args.indexOf('--iidfile') + 1]).toBe('/tmp/with space/iid');
    expect(cmd.args[cmd.args.indexOf('--metadata-file') + 1]).toBe('/tmp/with space/$meta.json');
    expect(cmd.args[cmd.args.length - 1]).toBe('/work/my app; echo');
    // Nothing was split: the argv has exactly the items the flags need.
    expect(cmd.args).toHaveLength(2 + 6 + 2 + 2 * nasty.length + 2 + 2 * nasty.length + 2 + 2 + 2 + 1 + 1);
  });

  describe('from a parsed config', () => {
    const GITHUB: GithubContext = {
      sha: 'abcdef0123456789abcdef0123456789abcdef01',
      serverUrl: 'https://github.com',
      workspace: '/home/runner/work/app/app',
      runnerTemp: '/home/runner/work/_temp',
    };
    const NOW = new Date('2026-12-01T09:30:05Z');
    function parsed(inputs: Partial<Record<InputName, string>>): BuildConfig {
      const r = parseConfig((n) => inputs[n] ?? '', GITHUB, NOW);
      if (!r.ok) throw new Error(r.errors.join('\n'));
      return r.config.build;
    }

    it('turns the inputs into the argv they name', () => {
      const b = parsed({
        image: 'ghcr.io/acme/myapp',
        tags: 'latest, v1.2.0',
        context: 'app',
        'build-args': 'GREETING=hello world\nQUERY=a=b&c=$(d)',
        labels: 'org.example.team=pay ments',
        target: 'runner',
        'build-network': 'host',
        'no-cache': 'true',
      });
      const cmd = buildCommand(
        inv({ build: b, builder: BUILDKIT, platforms: ['linux/amd64'], labels: b.labels }),
      );
      expect(cmd.args).toEqual([
        'build',
        '--progress',
        'plain',
        '--file',
        'app/Dockerfile',
        '--iidfile',
        '/tmp/b/iid',
        '--tag',
        'ghcr.io/acme/myapp:20261201093005-abcdef0',
        '--tag',
        'ghcr.io/acme/myapp:latest',
        '--tag',
        'ghcr.io/acme/myapp:v1.2.0',
        '--build-arg',
        'GREETING=hello world',
        '--build-arg',
        'QUERY=a=b&c=$(d)',
        '--build-arg',
        'BUILD_TAG=20261201093005-abcdef0',
        '--label',
        'org.example.team=pay ments',
        '--platform',
        'linux/amd64',
        '--target',
        'runner',
        '--network',
        'host',
        '--no-cache',
        'app',
      ]);
      expect(cmd.env).toEqual({ DOCKER_BUILDKIT: '1' });
    });

    it('a given build tag and build-tag-arg reach the argv', () => {
      const b = parsed({ image: 'myapp', 'build-tag': 'v7', 'build-tag-arg': 'VERSION', push: 'true' });
      const cmd = buildCommand(inv({ build: b }));
      expect(cmd.args).toEqual([
        'buildx',
        'build',
        '--progress',
        'plain',
        '--file',
        'Dockerfile',
        '--iidfile',
        '/tmp/b/iid',
        '--tag',
        'myapp:v7',
        '--build-arg',
        'VERSION=v7',
        '--platform',
        'linux/amd64',
        '--metadata-file',
        '/tmp/b/metadata.json',
        '--push',
        '.',
      ]);
    });
  });
});
