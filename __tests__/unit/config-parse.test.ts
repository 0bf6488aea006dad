// parseConfig: every input through the real parser. Each refusal is one line that names the input
// and gives an example; all problems come at once; defaults are action.yml's; the Config is frozen.
import fc from 'fast-check';
import ssh2 from 'ssh2';
import { generateBuildTag } from '../../src/build/tag.js';
import { INPUT_DEFAULTS, parseConfig, type InputName, type ParseResult } from '../../src/config/parse.js';
import {
  CACHE_MODES,
  COMMANDS,
  HEALTH_CHECKS,
  LINT_MODES,
  PROXIES,
  PRUNE_SCOPES,
  TRANSFERS,
  type Config,
  type GithubContext,
} from '../../src/config/schema.js';

type Inputs = Partial<Record<InputName, string>>;

const SHA = 'ABCDEF0123456789abcdef0123456789abcdef01';
const NOW = new Date('2026-12-01T09:30:05Z');
const TAG = '20261201093005-abcdef0';
const GITHUB: GithubContext = {
  sha: SHA,
  serverUrl: 'https://github.com',
  workspace: '/home/runner/work/app/app',
  runnerTemp: '/home/runner/work/_temp',
};
const IMAGE = 'ghcr.io/acme/myapp';
const BASE: Inputs = { image: IMAGE };
const HEX64 = '0123456789abcdef'.repeat(4);

const USER_KEY = ssh2.utils.generateKeyPairSync('ed25519');
const HOST_KEY = ssh2.utils.generateKeyPairSync('ed25519');
const HOST_LINE = `deploy.example.com ${HOST_KEY.public}`;
const FINGERPRINT = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';
const SSH: Inputs = {
  host: 'deploy.example.com',
  username: 'deploy',
  'ssh-key': USER_KEY.private,
  'known-hosts': HOST_LINE,
};

function parse(inputs: Inputs, github: GithubContext = { ...GITHUB }, now = NOW): ParseResult {
  return parseConfig((n) => inputs[n] ?? '', github, now);
}

function config(inputs: Inputs): Config {
  const r = parse(inputs);
  if (!r.ok) throw new Error(`expected a config, got:\n${r.errors.join('\n')}`);
  return r.config;
}

function warningsOf(inputs: Inputs): string[] {
  const r = parse(inputs);
  if (!r.ok) throw new Error(`expected a config, got:\n${r.errors.join('\n')}`);
  return r.warnings;
}

function errorsOf(inputs: Inputs): string[] {
  const r = parse(inputs);
  if (r.ok) throw new Error('expected problems, got a config');
  return r.errors;
}

/** The single problem of `inputs`: it is about `name`, and gives an example. */
function problem(inputs: Inputs, name: InputName): string {
  const errors = errorsOf(inputs);
  expect(errors).toEqual([expect.stringMatching(new RegExp(`^input '${name}': `))]);
  expect(errors[0]).toMatch(/e\.g\. \S/);
  return errors[0]!;
}

describe('defaults', () => {
  test('an image alone is a whole deploy config, with the documented defaults', () => {
    const r = parse(BASE);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.warnings).toEqual([]);
    expect(r.config).toEqual({
      command: 'deploy',
      dryRun: false,
      build: {
        context: '.',
        file: 'Dockerfile',
        repository: { name: IMAGE, domain: 'ghcr.io', basename: 'myapp' },
        tags: [`${IMAGE}:${TAG}`],
        platforms: 'auto',
        buildArgs: [],
        buildTag: TAG,
        buildTagArg: 'BUILD_TAG',
        labels: [],
        cache: 'auto',
        noCache: false,
        push: false,
        lint: 'warn',
      },
      target: { kind: 'local', timeoutMs: 30_000 },
      ship: { transfer: 'none' },
      deploy: {
        app: 'myapp',
        ports: { blue: 3001, green: 3002 },
        containerPort: 3000,
        bindAddress: '127.0.0.1',
        env: [],
        volumes: [],
        restart: { name: 'unless-stopped', maxRetries: 0 },
        healthCheck: 'http',
        healthPath: '/',
        healthTimeoutMs: 60_000,
        proxy: 'nginx',
        nginxUpstreamFile: '/etc/nginx/conf.d/myapp.upstream',
        nginxTestCommand: ['nginx', '-t'],
        reloadCommand: ['nginx', '-s', 'reload'],
        drainMs: 10_000,
        keepOldContainer: true,
        lockTimeoutMs: 600_000,
        rollbackTo: 'previous',
        runtime: 'container',
      },
      retention: {
        keepImages: 3,
        pruneDangling: true,
        pruneBuildCache: false,
        pruneScope: 'app',
        protectLabels: [],
      },
      guard: { minFreeSpace: { kind: 'bytes', bytes: 1_000_000_000 } },
      github: GITHUB,
    });
  });

  test('giving every input its INPUT_DEFAULTS value is the same as giving it empty', () => {
    const explicit: Inputs = { ...INPUT_DEFAULTS, ...BASE };
    expect(config(explicit)).toEqual(config(BASE));
  });

  test.each(Object.keys(INPUT_DEFAULTS).filter((n) => INPUT_DEFAULTS[n as InputName] !== '') as InputName[])(
    'an empty %s falls back to its default, not to an error',
    (name) => {
      // A value other than the default proves the input is read; empty must equal the default.
      expect(config({ ...BASE, [name]: '' })).toEqual(config({ ...BASE, [name]: INPUT_DEFAULTS[name] }));
    },
  );

  test('the defaults themselves all pass the rules (for rollback and cleanup too)', () => {
    for (const command of ['rollback', 'cleanup']) {
      expect(config({ ...INPUT_DEFAULTS, command, app: 'myapp' }).command).toBe(command);
    }
  });
});

describe('all problems are reported at once', () => {
  test('five bad inputs give five lines, one per input, each with an example', () => {
    const errors = errorsOf({
      ...BASE,
      port: 'ssh',
      cache: 'sometimes',
      drain: '60',
      'keep-images': '0',
      'bind-address': 'localhost',
    });
    expect(errors).toHaveLength(5);
    expect(errors.map((e) => /^input '([a-z-]+)': /.exec(e)?.[1]).sort()).toEqual(
      ['bind-address', 'cache', 'drain', 'keep-images', 'port'].sort(),
    );
    for (const e of errors) expect(e).toMatch(/e\.g\. \S/);
  });

  test('problems from every section at once, each line naming a real input', () => {
    const errors = errorsOf({
      command: 'rollback',
      platform: 'linux/sparc',
      host: 'bad host',
      transfer: 'carrier-pigeon',
      ports: '3001,3001',
      'prune-scope': 'everything',
      'dry-run': 'yes',
    });
    // rollback with neither app nor image is one more problem ('app')
    expect(errors).toHaveLength(10);
    for (const e of errors) {
      const name = /^input '([a-z-]+)': /.exec(e)?.[1];
      expect(Object.keys(INPUT_DEFAULTS)).toContain(name);
    }
    const names = errors.map((e) => /^input '([a-z-]+)'/.exec(e)![1]);
    expect(names).toEqual(
      expect.arrayContaining([
        'dry-run',
        'platform',
        'host',
        'username',
        'ssh-key',
        'known-hosts',
        'transfer',
        'app',
        'ports',
        'prune-scope',
      ]),
    );
  });
});

describe('the Config is deeply frozen', () => {
  function walk(o: unknown, at: string, seen: string[]): void {
    if (o === null || typeof o !== 'object' || Buffer.isBuffer(o)) return;
    if (!Object.isFrozen(o)) seen.push(at);
    for (const [k, v] of Object.entries(o)) walk(v, `${at}.${k}`, seen);
  }

  test('every object and array in it, however deep', () => {
    const cfg = config({
      ...BASE,
      ...SSH,
      tags: 'latest',
      'build-args': 'A=1',
      labels: 'team=web',
      env: 'B=2',
      volumes: '/srv:/data:ro',
      'max-disk-usage': '80%',
      'prune-build-cache': '168h',
      'rollback-to': 'v1',
      proxy: 'command',
      'switch-command': 'switch $BG_COLOR',
      'registry-username': 'bot',
      'registry-password': 'token',
    });
    const notFrozen: string[] = [];
    walk(cfg, 'config', notFrozen);
    expect(notFrozen).toEqual([]);
    // and the walk did reach the deep parts
    expect(cfg.target.kind === 'ssh' && cfg.target.knownHosts.length).toBe(1);
  });

  test('writes throw (ES modules are strict mode)', () => {
    const cfg = config(BASE);
    expect(() => {
      (cfg as { command: string }).command = 'cleanup';
    }).toThrow(TypeError);
    expect(() => {
      (cfg.build.tags as string[]).push('evil');
    }).toThrow(TypeError);
    expect(() => {
      (cfg.deploy.ports as { blue: number }).blue = 1;
    }).toThrow(TypeError);
    expect(cfg.deploy.ports.blue).toBe(3001);
  });
});

describe('command and dry-run', () => {
  test.each(COMMANDS)('command %s', (command) => {
    expect(config({ ...BASE, command }).command).toBe(command);
  });

  test.each(['Deploy', 'DEPLOY', 'release', 'deploy,build'])('command %j is refused', (command) => {
    const p = problem({ ...BASE, command }, 'command');
    expect(p).toContain('deploy, build, rollback, cleanup');
  });

  test.each(['deploy', 'build'])('%s needs image', (command) => {
    const p = problem({ command }, 'image');
    expect(p).toContain(`is required for command ${command}`);
  });

  test.each(['rollback', 'cleanup'])('%s needs app or image', (command) => {
    expect(problem({ command }, 'app')).toContain(`or 'image' is required for command ${command}`);
    expect(config({ command, app: 'web' }).deploy.app).toBe('web');
    expect(config({ command, image: 'acme/web' }).deploy.app).toBe('web');
  });

  test('rollback without image has no build tags', () => {
    expect(config({ command: 'rollback', app: 'web', tags: 'latest' }).build.tags).toEqual([]);
  });
});

describe('booleans: exactly core.getBooleanInput spellings', () => {
  const BOOLS = [
    ['dry-run', (c: Config) => c.dryRun],
    ['no-cache', (c: Config) => c.build.noCache],
    ['push', (c: Config) => c.build.push],
    ['keep-old-container', (c: Config) => c.deploy.keepOldContainer],
    ['prune-dangling', (c: Config) => c.retention.pruneDangling],
    [
      'insecure-skip-host-key-check',
      (c: Config) => (c.target.kind === 'ssh' ? c.target.insecureSkipHostKeyCheck : false),
    ],
  ] as const;

  const host = { host: 'deploy.example.com', username: 'deploy', 'ssh-key': USER_KEY.private };

  test.each(BOOLS.flatMap(([name, get]) => ['true', 'True', 'TRUE'].map((v) => [name, v, get] as const)))(
    '%s: %s is true',
    (name, v, get) => {
      const extra = name === 'insecure-skip-host-key-check' ? {} : { 'host-fingerprint': FINGERPRINT };
      expect(get(config({ ...BASE, ...host, ...extra, [name]: v }))).toBe(true);
    },
  );

  test.each(BOOLS.flatMap(([name, get]) => ['false', 'False', 'FALSE'].map((v) => [name, v, get] as const)))(
    '%s: %s is false',
    (name, v, get) => {
      expect(get(config({ ...BASE, ...host, 'host-fingerprint': FINGERPRINT, [name]: v }))).toBe(false);
    },
  );

  test.each(
    BOOLS.flatMap(([name]) => ['yes', 'no', '1', '0', 'on', 'tRUE', 'y'].map((v) => [name, v] as const)),
  )('%s: %s is refused', (name, v) => {
    const errors = errorsOf({ ...BASE, [name]: v });
    const line = errors.find((e) => e.startsWith(`input '${name}': `));
    expect(line).toContain(`"${v}" is not a boolean`);
    expect(line).toMatch(/e\.g\. true$/);
  });
});

describe('enumerations', () => {
  const ENUMS: Array<[InputName, readonly string[], (c: Config) => unknown, Inputs]> = [
    ['cache', CACHE_MODES, (c) => c.build.cache, {}],
    ['lint', LINT_MODES, (c) => c.build.lint, {}],
    ['health-check', HEALTH_CHECKS, (c) => c.deploy.healthCheck, {}],
    ['proxy', PROXIES, (c) => c.deploy.proxy, { 'switch-command': 'switch $BG_COLOR' }],
    ['prune-scope', PRUNE_SCOPES, (c) => c.retention.pruneScope, {}],
  ];

  test.each(ENUMS.flatMap(([name, values, get, extra]) => values.map((v) => [name, v, get, extra] as const)))(
    '%s: %s',
    (name, v, get, extra) => {
      expect(get(config({ ...BASE, ...extra, [name]: v }))).toBe(v);
    },
  );

  test.each(ENUMS.map(([name, values]) => [name, values] as const))(
    '%s refuses other values',
    (name, values) => {
      for (const bad of ['bogus', values[0]!.toUpperCase(), ` ${values[0]}`]) {
        const p = problem({ ...BASE, [name]: bad }, name);
        expect(p).toContain(values.join(', '));
      }
    },
  );

  test('transfer: every value, and a bad one', () => {
    for (const t of TRANSFERS) {
      const cfg = config({ ...BASE, ...SSH, push: 'true', transfer: t });
      expect(cfg.ship.transfer).toBe(t === 'auto' ? 'registry' : t);
    }
    expect(problem({ ...BASE, transfer: 'scp' }, 'transfer')).toContain(
      'auto, ssh, ssh-full, registry, none',
    );
  });

  test.each([
    ['no', 'no', 0],
    ['always', 'always', 0],
    ['unless-stopped', 'unless-stopped', 0],
    ['on-failure', 'on-failure', 0],
    ['on-failure:3', 'on-failure', 3],
  ])('restart %s', (raw, name, maxRetries) => {
    expect(config({ ...BASE, restart: raw }).deploy.restart).toEqual({ name, maxRetries });
  });

  test.each(['always:3', 'sometimes', 'on-failure:-1'])('restart %s is refused', (raw) => {
    expect(problem({ ...BASE, restart: raw }, 'restart')).toContain('on-failure[:N]');
  });
});

describe('build', () => {
  test('context and file', () => {
    expect(config({ ...BASE, context: './app' }).build.file).toBe('app/Dockerfile');
    expect(config({ ...BASE, context: 'app', file: 'docker/web.Dockerfile' }).build).toMatchObject({
      context: 'app',
      file: 'docker/web.Dockerfile',
    });
    expect(problem({ ...BASE, context: 'a\nb' }, 'context')).toContain('NUL or newline');
    expect(problem({ ...BASE, file: 'Docker\0file' }, 'file')).toContain('NUL or newline');
  });

  test.each(['MyApp', 'ghcr.io/acme/myapp:latest', 'acme//myapp', 'a'.repeat(256), HEX64])(
    'image %j is refused',
    (image) => {
      expect(problem({ image }, 'image')).toContain('e.g. myapp or ghcr.io/acme/myapp');
    },
  );

  test('image of many shapes; app defaults to its basename', () => {
    for (const [image, app] of [
      ['myapp', 'myapp'],
      ['localhost:5000/team/web', 'web'],
      ['[::1]:5000/api', 'api'],
      ['registry.example.com/a/b/c.d_e', 'c.d_e'],
    ]) {
      const cfg = config({ image });
      expect(cfg.build.repository?.name).toBe(image);
      expect(cfg.deploy.app).toBe(app);
      expect(cfg.deploy.nginxUpstreamFile).toBe(`/etc/nginx/conf.d/${app}.upstream`);
    }
  });

  test('the build tag: YYYYMMDDHHMMSS-<sha7> in UTC, local without a sha', () => {
    expect(config(BASE).build.buildTag).toBe(TAG);
    expect(generateBuildTag(NOW, SHA)).toBe(TAG);
    const r = parse(BASE, { ...GITHUB, sha: undefined }, new Date('2027-02-03T04:05:06Z'));
    expect(r.ok && r.config.build.buildTag).toBe('20270203040506-local');
    expect(r.ok && r.config.build.tags[0]).toBe(`${IMAGE}:20270203040506-local`);
  });

  test('build-tag overrides the generated tag everywhere', () => {
    const cfg = config({ ...BASE, 'build-tag': 'v1.2.3', tags: 'latest' });
    expect(cfg.build.buildTag).toBe('v1.2.3');
    expect(cfg.build.tags).toEqual([`${IMAGE}:v1.2.3`, `${IMAGE}:latest`]);
  });

  test.each(['-v1', '.v1', 'v 1', 'v1/2', 'a'.repeat(129), 'v1:2'])('build-tag %j is refused', (tag) => {
    expect(problem({ ...BASE, 'build-tag': tag }, 'build-tag')).toContain('is not a valid tag');
  });

  test('tags: bare tags on the image, full references as given, the build tag first', () => {
    const cfg = config({
      ...BASE,
      tags: 'latest, v1.2.0\nstable\n# a comment\n\nghcr.io/acme/other:edge,localhost:5000/myapp,docker.io/acme/myapp:1',
    });
    expect(cfg.build.tags).toEqual([
      `${IMAGE}:${TAG}`,
      `${IMAGE}:latest`,
      `${IMAGE}:v1.2.0`,
      `${IMAGE}:stable`,
      'ghcr.io/acme/other:edge',
      'localhost:5000/myapp',
      'docker.io/acme/myapp:1',
    ]);
  });

  test.each([
    '-bad',
    '.bad',
    'a'.repeat(129),
    'ghcr.io/Acme/app:v1',
    'app:bad tag',
    'app:-x',
    'a b',
    'my_registry.io/app:v1',
  ])('tags %j is refused', (t) => {
    const p = problem({ ...BASE, tags: `latest,${t}` }, 'tags');
    expect(p).toContain('is neither a tag nor an image reference');
  });

  test('a digest reference cannot be a tag', () => {
    const p = problem({ ...BASE, tags: `ghcr.io/acme/myapp@sha256:${HEX64}` }, 'tags');
    expect(p).toContain('has a digest');
  });

  test('each bad tag is its own line', () => {
    const errors = errorsOf({ ...BASE, tags: '-a,-b,ok,-c' });
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e.startsWith("input 'tags': "))).toBe(true);
  });

  test('property: whatever valid tags are given, the list starts with <image>:<build-tag>', () => {
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 6 }), fc.option(tag, { nil: undefined }), (tags, buildTag) => {
        const cfg = config({ ...BASE, tags: tags.join(','), ...(buildTag ? { 'build-tag': buildTag } : {}) });
        expect(cfg.build.tags[0]).toBe(`${IMAGE}:${buildTag ?? TAG}`);
        expect(cfg.build.tags.slice(1)).toEqual(tags.map((t) => `${IMAGE}:${t}`));
      }),
      { numRuns: 100 },
    );
  });

  test('platform: auto, one, several with push', () => {
    expect(config(BASE).build.platforms).toBe('auto');
    expect(config({ ...BASE, platform: 'linux/arm64' }).build.platforms).toEqual(['linux/arm64']);
    expect(config({ ...BASE, platform: 'linux/amd64,linux/arm64', push: 'true' }).build.platforms).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
  });

  test('several platforms without push are refused', () => {
    const p = problem({ ...BASE, platform: 'linux/amd64,linux/arm64' }, 'platform');
    expect(p).toContain('names 2 platforms, which needs push: true');
  });

  test.each([
    ['linux/sparc', 'is not a known platform'],
    ['linux', 'is not os/arch[/variant]'],
    ['Linux/amd64', 'is not os/arch[/variant]'],
  ])('platform %s is refused: %s', (platform, why) => {
    expect(problem({ ...BASE, platform }, 'platform')).toContain(why);
  });

  test('build-args, and the build tag argument they may not set', () => {
    expect(config({ ...BASE, 'build-args': 'NODE_ENV=production\nURL=a=b' }).build.buildArgs).toEqual([
      ['NODE_ENV', 'production'],
      ['URL', 'a=b'],
    ]);
    expect(problem({ ...BASE, 'build-args': 'BUILD_TAG=x' }, 'build-args')).toContain(
      "sets BUILD_TAG, which the action sets to the build tag; use 'build-tag'",
    );
    expect(
      config({ ...BASE, 'build-args': 'BUILD_TAG=x', 'build-tag-arg': 'APP_VERSION' }).build,
    ).toMatchObject({
      buildTagArg: 'APP_VERSION',
      buildArgs: [['BUILD_TAG', 'x']],
    });
    expect(
      problem({ ...BASE, 'build-args': 'APP_VERSION=1', 'build-tag-arg': 'APP_VERSION' }, 'build-args'),
    ).toContain('sets APP_VERSION');
    expect(problem({ ...BASE, 'build-args': 'NODE-ENV=x' }, 'build-args')).toContain(
      'invalid key "NODE-ENV"',
    );
  });

  test.each(['1TAG', 'BUILD-TAG', 'build tag'])('build-tag-arg %j is refused', (v) => {
    expect(problem({ ...BASE, 'build-tag-arg': v }, 'build-tag-arg')).toContain('is not a build-arg name');
  });

  test('labels, target, build-network, max-image-size', () => {
    const b = config({
      ...BASE,
      labels: 'org.example.team=payments\ncom.example/x=1',
      target: 'runner',
      'build-network': 'host',
      'max-image-size': '400MB',
    }).build;
    expect(b.labels).toEqual([
      ['org.example.team', 'payments'],
      ['com.example/x', '1'],
    ]);
    expect(b.target).toBe('runner');
    expect(b.network).toBe('host');
    expect(b.maxImageSize).toBe(400_000_000);
  });

  test.each([
    ['labels', '-x=1', 'invalid key'],
    ['target', 'my stage', 'is not a stage name'],
    ['build-network', 'my net', 'is not a network name'],
    ['max-image-size', '400XB', 'is not a size'],
    ['max-image-size', '0', 'more than zero'],
  ] as const)('%s %j is refused', (name, v, why) => {
    expect(problem({ ...BASE, [name]: v }, name)).toContain(why);
  });
});

describe('host connection', () => {
  test('a full ssh target', () => {
    const cfg = config({ ...BASE, ...SSH, port: '2222', 'ssh-timeout': '2m' });
    expect(cfg.target).toMatchObject({
      kind: 'ssh',
      host: 'deploy.example.com',
      port: 2222,
      username: 'deploy',
      privateKey: USER_KEY.private,
      insecureSkipHostKeyCheck: false,
      timeoutMs: 120_000,
    });
    if (cfg.target.kind !== 'ssh') throw new Error('ssh');
    expect(cfg.target.knownHosts.map((k) => k.keyType)).toEqual(['ssh-ed25519']);
    expect(cfg.target.fingerprint).toBeUndefined();
    expect(cfg.target.passphrase).toBeUndefined();
  });

  test('host alone needs username, ssh-key and a way to verify the host key: three lines', () => {
    const errors = errorsOf({ ...BASE, host: 'deploy.example.com' });
    expect(errors.map((e) => /^input '([a-z-]+)'/.exec(e)![1])).toEqual([
      'username',
      'ssh-key',
      'known-hosts',
    ]);
    for (const e of errors) expect(e).toMatch(/e\.g\. \S/);
    expect(errors[2]).toContain("or 'host-fingerprint' is required with host");
    expect(errors[2]).toContain('insecure-skip-host-key-check');
  });

  test('host-fingerprint instead of known-hosts', () => {
    const cfg = config({ ...BASE, ...SSH, 'known-hosts': '', 'host-fingerprint': `${FINGERPRINT}=` });
    expect(cfg.target.kind === 'ssh' && cfg.target.fingerprint).toBe(FINGERPRINT);
    expect(cfg.target.kind === 'ssh' && cfg.target.knownHosts).toEqual([]);
  });

  test('insecure-skip-host-key-check instead of both', () => {
    const cfg = config({ ...BASE, ...SSH, 'known-hosts': '', 'insecure-skip-host-key-check': 'true' });
    expect(cfg.target.kind === 'ssh' && cfg.target.insecureSkipHostKeyCheck).toBe(true);
  });

  test('insecure-skip-host-key-check with a host key given: verified anyway, with a warning', () => {
    const r = parse({ ...BASE, ...SSH, 'insecure-skip-host-key-check': 'true' });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.target.kind === 'ssh' && r.config.target.insecureSkipHostKeyCheck).toBe(false);
    expect(r.warnings).toEqual([expect.stringContaining('the host key is verified anyway')]);
  });

  test.each([
    ['host', 'deploy.example.com;id', 'is not a hostname or IP address'],
    ['host', '-oProxyCommand=id', 'is not a hostname or IP address'],
    ['port', '0', 'out of range'],
    ['port', 'ssh', 'is not a port number'],
    ['username', '-l', 'is not a valid user name'],
    ['username', 'root;id', 'is not a valid user name'],
    ['known-hosts', 'garbage', "is not 'host keytype base64-key'"],
    ['host-fingerprint', 'MD5:aa:bb', 'is not a SHA256 fingerprint'],
    ['ssh-timeout', '30', 'add a unit'],
    ['ssh-timeout', '-1s', 'is not a duration'],
  ] as const)('%s %j is refused', (name, v, why) => {
    expect(problem({ ...BASE, ...SSH, [name]: v }, name)).toContain(why);
  });

  test('the host is an IP address too, bracketed IPv6 unbracketed', () => {
    expect(config({ ...BASE, ...SSH, host: '203.0.113.10' }).target).toMatchObject({ host: '203.0.113.10' });
    expect(config({ ...BASE, ...SSH, host: '[2001:db8::1]' }).target).toMatchObject({ host: '2001:db8::1' });
  });

  test('without host: the runner’s own daemon; connection inputs are ignored with a warning', () => {
    const r = parse({ ...BASE, username: 'deploy', 'ssh-key': USER_KEY.private, 'known-hosts': HOST_LINE });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.target).toEqual({ kind: 'local', timeoutMs: 30_000 });
    expect(r.warnings).toEqual([
      expect.stringContaining("'username' is ignored"),
      expect.stringContaining("'ssh-key' is ignored"),
      expect.stringContaining("'known-hosts' is ignored"),
    ]);
  });

  test.each([
    ['port', '70000'],
    ['insecure-skip-host-key-check', 'yes'],
    ['host-fingerprint', 'SHA256:short'],
    ['known-hosts', 'not a line'],
    ['username', 'bad user'],
  ] as const)('without host, %s %j is still validated', (name, v) => {
    problem({ ...BASE, [name]: v }, name);
  });
});

describe('shipping', () => {
  test('transfer auto: none without host, ssh with host, registry with host and push', () => {
    expect(config(BASE).ship.transfer).toBe('none');
    expect(config({ ...BASE, push: 'true' }).ship.transfer).toBe('none');
    expect(config({ ...BASE, ...SSH }).ship.transfer).toBe('ssh');
    expect(config({ ...BASE, ...SSH, push: 'true' }).ship.transfer).toBe('registry');
  });

  test.each(['ssh', 'ssh-full'])('transfer %s needs a host', (transfer) => {
    expect(problem({ ...BASE, transfer }, 'transfer')).toContain(`${transfer} needs a host to send to`);
  });

  test('transfer registry needs push', () => {
    expect(problem({ ...BASE, ...SSH, transfer: 'registry' }, 'transfer')).toContain(
      'registry needs push: true',
    );
    expect(config({ ...BASE, ...SSH, transfer: 'registry', push: 'true' }).ship.transfer).toBe('registry');
  });

  test('transfer registry with an image without registry domain warns about Docker Hub', () => {
    const w = warningsOf({ image: 'myapp', ...SSH, transfer: 'registry', push: 'true' });
    expect(w).toEqual([expect.stringContaining('means Docker Hub')]);
  });

  test('registry credentials come as a pair; the password is never shown', () => {
    const password = 'ghp_SuperSecretToken123';
    expect(
      config({ ...BASE, 'registry-username': 'bot', 'registry-password': password }).ship.registryAuth,
    ).toEqual({
      username: 'bot',
      password,
    });
    const p = problem({ ...BASE, 'registry-password': password }, 'registry-username');
    expect(p).toContain('is required with registry-password');
    expect(p).not.toContain(password);
    expect(problem({ ...BASE, 'registry-username': 'bot' }, 'registry-password')).toContain(
      'is required with registry-username',
    );
    const errors = errorsOf({ ...BASE, 'registry-username': 'my bot', 'registry-password': password });
    expect(errors).toEqual([
      expect.stringContaining('input \'registry-username\': "my bot" is not a user name'),
    ]);
    expect(errors.join('\n')).not.toContain(password);
  });
});

describe('blue/green', () => {
  test('app: given, or the basename of image', () => {
    expect(config({ ...BASE, app: 'web' }).deploy).toMatchObject({
      app: 'web',
      nginxUpstreamFile: '/etc/nginx/conf.d/web.upstream',
    });
    expect(config({ ...BASE, app: 'a'.repeat(100) }).deploy.app).toHaveLength(100);
  });

  test.each(['MyApp', '-web', '_web', 'web app', 'web/1', 'a'.repeat(101)])('app %j is refused', (app) => {
    expect(problem({ ...BASE, app }, 'app')).toContain('is not an app name');
  });

  test('ports', () => {
    expect(config({ ...BASE, ports: '4000, 4001' }).deploy.ports).toEqual({ blue: 4000, green: 4001 });
    expect(config({ ...BASE, ports: '4001\n4000' }).deploy.ports).toEqual({ blue: 4001, green: 4000 });
  });

  test.each([
    ['3001,3001', 'blue and green are both 3001: they must differ'],
    ['3001', 'is not two ports'],
    ['3001,3002,3003', 'is not two ports'],
    ['0,3002', 'out of range'],
    ['3001,70000', 'out of range'],
    ['3001,http', 'is not a port number'],
  ])('ports %j is refused: %s', (ports, why) => {
    expect(problem({ ...BASE, ports }, 'ports')).toContain(why);
  });

  test('container-port', () => {
    expect(config({ ...BASE, 'container-port': '8080' }).deploy.containerPort).toBe(8080);
    expect(problem({ ...BASE, 'container-port': '0' }, 'container-port')).toContain('out of range');
  });

  test.each([
    ['0.0.0.0', '0.0.0.0'],
    ['192.168.1.5', '192.168.1.5'],
    ['::', '::'],
    ['::1', '::1'],
    ['[::1]', '::1'],
  ])('bind-address %s', (v, want) => {
    expect(config({ ...BASE, 'bind-address': v }).deploy.bindAddress).toBe(want);
  });

  test.each([
    'localhost',
    'deadbeef',
    'cafe.be',
    'dead.beef',
    '127.0.0.1:80',
    '256.1.1.1',
    'fe80::1%eth0',
    ''.padEnd(3, ' '),
  ])('bind-address %j is refused (an IP address, not a host name)', (v) => {
    expect(problem({ ...BASE, 'bind-address': v }, 'bind-address')).toContain(
      'is not an IP address; e.g. 127.0.0.1',
    );
  });

  test('network', () => {
    expect(config({ ...BASE, network: 'web' }).deploy.network).toBe('web');
    expect(problem({ ...BASE, network: 'web;id' }, 'network')).toContain('is not a network name');
  });

  test('env: KEY=VALUE lines; values are never in a problem', () => {
    expect(config({ ...BASE, env: 'A=1\n# c\nDSN=postgres://u:p@h/db?x=1' }).deploy.env).toEqual([
      ['A', '1'],
      ['DSN', 'postgres://u:p@h/db?x=1'],
    ]);
    const secret = 'pa55w0rd-VERY-secret';
    for (const env of [`BAD-KEY=${secret}`, `TOKEN ${secret}`, `A=1\n${secret}`, `1X=${secret}`]) {
      const errors = errorsOf({ ...BASE, env });
      expect(errors).toEqual([expect.stringMatching(/^input 'env': .*e\.g\. NODE_ENV=production$/)]);
      expect(errors.join('\n')).not.toContain(secret);
    }
  });

  test('env-file, volumes', () => {
    const d = config({
      ...BASE,
      'env-file': '/srv/myapp/.env',
      volumes: '/srv/data:/data:ro\nappdata:/cache',
    }).deploy;
    expect(d.envFile).toBe('/srv/myapp/.env');
    expect(d.volumes).toEqual([
      { source: '/srv/data', target: '/data', readOnly: true },
      { source: 'appdata', target: '/cache', readOnly: false },
    ]);
    expect(problem({ ...BASE, 'env-file': '.env' }, 'env-file')).toContain('is not an absolute path');
    expect(problem({ ...BASE, 'env-file': '/srv/../etc/shadow' }, 'env-file')).toContain("'..'");
    expect(problem({ ...BASE, volumes: '/srv/data:data' }, 'volumes')).toContain('target');
  });

  test('health-path and health-timeout', () => {
    expect(
      config({ ...BASE, 'health-path': '/healthz?full=1', 'health-timeout': '90s' }).deploy,
    ).toMatchObject({
      healthPath: '/healthz?full=1',
      healthTimeoutMs: 90_000,
    });
    expect(problem({ ...BASE, 'health-path': 'healthz' }, 'health-path')).toContain('is not a URL path');
    expect(problem({ ...BASE, 'health-path': '/a b' }, 'health-path')).toContain('is not a URL path');
    expect(problem({ ...BASE, 'health-timeout': '60' }, 'health-timeout')).toContain('add a unit');
  });

  test('proxy command needs switch-command', () => {
    expect(problem({ ...BASE, proxy: 'command' }, 'switch-command')).toContain(
      'is required with proxy: command',
    );
  });

  test('nginx-upstream-file', () => {
    expect(config({ ...BASE, 'nginx-upstream-file': '/etc/nginx/x.conf' }).deploy.nginxUpstreamFile).toBe(
      '/etc/nginx/x.conf',
    );
    expect(problem({ ...BASE, 'nginx-upstream-file': 'x.conf' }, 'nginx-upstream-file')).toContain(
      'is not an absolute path',
    );
  });

  test.each([
    ['drain', '0', (c: Config) => c.deploy.drainMs, 0],
    ['drain', '1500ms', (c: Config) => c.deploy.drainMs, 1500],
    ['lock-timeout', '1h30m', (c: Config) => c.deploy.lockTimeoutMs, 5_400_000],
    ['health-timeout', '10m', (c: Config) => c.deploy.healthTimeoutMs, 600_000],
  ] as const)('%s %s', (name, v, get, want) => {
    expect(get(config({ ...BASE, [name]: v }))).toBe(want);
  });

  test.each([
    ['drain', '10 seconds'],
    ['drain', '-5s'],
    ['lock-timeout', '400d'],
    ['lock-timeout', '10'],
  ] as const)('%s %j is refused', (name, v) => {
    problem({ ...BASE, [name]: v }, name);
  });

  test('rollback-to: previous or a build tag', () => {
    expect(config({ ...BASE, 'rollback-to': '20261201093000-abc1234' }).deploy.rollbackTo).toEqual({
      buildTag: '20261201093000-abc1234',
    });
    expect(problem({ ...BASE, 'rollback-to': 'last one' }, 'rollback-to')).toContain(
      'is neither previous nor a build tag',
    );
  });
});

describe('retention', () => {
  test('keep-images', () => {
    expect(config({ ...BASE, 'keep-images': '1' }).retention.keepImages).toBe(1);
    expect(config({ ...BASE, 'keep-images': '1000' }).retention.keepImages).toBe(1000);
    for (const v of ['0', '1001', '-1', 'all', '2.5']) problem({ ...BASE, 'keep-images': v }, 'keep-images');
  });

  test.each([
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['all', 'all'],
    ['168h', { olderThanMs: 168 * 3_600_000 }],
    ['7d', { olderThanMs: 7 * 86_400_000 }],
  ] as const)('prune-build-cache %s', (v, want) => {
    expect(config({ ...BASE, 'prune-build-cache': v }).retention.pruneBuildCache).toEqual(want);
  });

  test.each(['true', 'yes', 'sometimes', '168'])('prune-build-cache %s is refused', (v) => {
    expect(problem({ ...BASE, 'prune-build-cache': v }, 'prune-build-cache')).toContain(
      'is not false, all or an age',
    );
  });

  test('max-disk-usage and protect-labels', () => {
    expect(config({ ...BASE, 'max-disk-usage': '80%' }).retention.maxDiskUsage).toEqual({
      kind: 'percent',
      percent: 80,
    });
    expect(config({ ...BASE, 'max-disk-usage': '20GB' }).retention.maxDiskUsage).toEqual({
      kind: 'bytes',
      bytes: 20e9,
    });
    expect(config({ ...BASE, 'protect-labels': 'keep=true' }).retention.protectLabels).toEqual([
      ['keep', 'true'],
    ]);
    expect(problem({ ...BASE, 'max-disk-usage': '150%' }, 'max-disk-usage')).toContain('out of range');
    expect(problem({ ...BASE, 'max-disk-usage': 'lots' }, 'max-disk-usage')).toContain(
      'neither a size nor a percentage',
    );
    expect(problem({ ...BASE, 'protect-labels': 'keep' }, 'protect-labels')).toContain('is not KEY=VALUE');
  });
});
