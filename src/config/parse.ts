// Inputs → one frozen Config, or every problem at once (one line each: the input, what is wrong,
// a good example). Pure: the caller supplies the raw strings, the GitHub context and the clock.
import ssh2 from 'ssh2';
import path from 'node:path';
import { isIP } from 'node:net';
import { generateBuildTag } from '../build/tag.js';
import { parseKnownHosts } from './known-hosts.js';
import * as r from './rules.js';
import {
  CACHE_MODES,
  COMMANDS,
  HEALTH_CHECKS,
  LINT_MODES,
  PROXIES,
  PRUNE_SCOPES,
  RUNTIMES,
  SECRET_INPUTS,
  SWITCH_VARS,
  TRANSFERS,
  type Config,
  type DeployConfig,
  type GithubContext,
  type PruneBuildCache,
  type Target,
  type Transfer,
} from './schema.js';

/** Every input of action.yml with its default (a unit test keeps the two equal). */
export const INPUT_DEFAULTS = {
  command: 'deploy',
  'dry-run': 'false',
  context: '.',
  file: '',
  image: '',
  tags: '',
  platform: 'auto',
  'build-args': '',
  'build-tag': '',
  'build-tag-arg': 'BUILD_TAG',
  target: '',
  labels: '',
  cache: 'auto',
  'no-cache': 'false',
  'build-network': '',
  push: 'false',
  lint: 'warn',
  'max-image-size': '',
  host: '',
  port: '22',
  username: '',
  'ssh-key': '',
  'ssh-key-passphrase': '',
  'known-hosts': '',
  'host-fingerprint': '',
  'insecure-skip-host-key-check': 'false',
  'ssh-timeout': '30s',
  transfer: 'auto',
  'registry-username': '',
  'registry-password': '',
  app: '',
  ports: '3001,3002',
  'container-port': '3000',
  'bind-address': '127.0.0.1',
  network: '',
  env: '',
  'env-file': '',
  volumes: '',
  restart: 'unless-stopped',
  'health-check': 'http',
  'health-path': '/',
  'health-timeout': '60s',
  proxy: 'nginx',
  'nginx-upstream-file': '',
  'nginx-test-command': 'nginx -t',
  'reload-command': 'nginx -s reload',
  'switch-command': '',
  drain: '10s',
  'keep-old-container': 'true',
  'lock-timeout': '10m',
  runtime: 'container',
  'compose-file': '',
  'compose-project': '',
  'compose-services': 'blue,green',
  'compose-image-env': 'IMAGE',
  'rollback-to': 'previous',
  'keep-images': '3',
  'prune-dangling': 'true',
  'prune-build-cache': 'false',
  'prune-scope': 'app',
  'max-disk-usage': '',
  'protect-labels': '',
  'min-free-space': '1GB',
  'build-cache-budget': '',
} as const;

export type InputName = keyof typeof INPUT_DEFAULTS;
export type InputReader = (name: InputName) => string;

export type ParseResult = { ok: true; config: Config; warnings: string[] } | { ok: false; errors: string[] };

const NETWORK_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function parseConfig(read: InputReader, github: GithubContext, now: Date): ParseResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const secret = new Set<string>(SECRET_INPUTS);
  const raw = (name: InputName): string => {
    const v = read(name);
    return v === '' ? INPUT_DEFAULTS[name] : v;
  };
  const given = (name: InputName): boolean => read(name) !== '';
  const fail = (name: InputName, problem: string) => errors.push(`input '${name}': ${problem}`);
  /** Runs a rule on an input; records its problem and returns undefined when it fails. */
  function take<T>(name: InputName, rule: (v: string) => r.Result<T>): T | undefined {
    const res = rule(raw(name));
    if (res.ok) return res.value;
    fail(
      name,
      secret.has(name) ? 'is not valid (the value is not shown); e.g. ${{ secrets.NAME }}' : res.problem,
    );
    return undefined;
  }
  function optional<T>(name: InputName, rule: (v: string) => r.Result<T>): T | undefined {
    return raw(name) === '' ? undefined : take(name, rule);
  }
  const bool = (name: InputName) => take(name, r.parseBool) ?? false;

  const command = take('command', (v) => r.parseEnum(v, COMMANDS)) ?? 'deploy';
  const dryRun = bool('dry-run');

  // --- build ---------------------------------------------------------------------------------
  const repository = optional('image', r.parseRepository);
  if (!given('image') && (command === 'deploy' || command === 'build')) {
    fail('image', `is required for command ${command}; e.g. myapp or ghcr.io/acme/myapp`);
  }
  let buildTag = generateBuildTag(now, github.sha);
  if (given('build-tag')) {
    buildTag =
      take('build-tag', (v) => (r.TAG_RE.test(v) ? { ok: true, value: v } : tagProblem(v))) ?? buildTag;
  }
  const buildTagArg =
    take('build-tag-arg', (v) =>
      r.ENV_KEY.test(v)
        ? { ok: true, value: v }
        : { ok: false, problem: `${r.show(v)} is not a build-arg name; e.g. BUILD_TAG` },
    ) ?? 'BUILD_TAG';
  const tags: string[] = [];
  if (repository) tags.push(`${repository.name}:${buildTag}`);
  for (const t of r.splitList(raw('tags'), true)) {
    if (r.TAG_RE.test(t)) {
      if (repository) tags.push(`${repository.name}:${t}`);
    } else if (t.includes('@') && r.isImageReference(t)) {
      fail(
        'tags',
        `${r.show(t)} has a digest: an image cannot be tagged with a digest; e.g. ghcr.io/acme/myapp:stable`,
      );
    } else if (t.includes('/') || t.includes(':') ? r.isImageReference(t) : false) {
      tags.push(t);
    } else {
      fail(
        'tags',
        `${r.show(t)} is neither a tag nor an image reference; e.g. latest, v1.2.0 or ghcr.io/acme/myapp:stable`,
      );
    }
  }
  const platforms = take('platform', r.parsePlatforms) ?? 'auto';
  const buildArgs = take('build-args', (v) => r.parseKeyValues(v, r.ENV_KEY, 'NODE_ENV=production')) ?? [];
  if (buildArgs.some(([k]) => k === buildTagArg)) {
    fail(
      'build-args',
      `sets ${buildTagArg}, which the action sets to the build tag; use 'build-tag' to choose it, e.g. build-tag: v1.2.0`,
    );
  }
  const target = optional('target', (v) =>
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)
      ? { ok: true, value: v }
      : { ok: false, problem: `${r.show(v)} is not a stage name; e.g. runner` },
  );
  const labels = take('labels', (v) => r.parseKeyValues(v, r.LABEL_KEY, 'org.example.team=payments')) ?? [];
  const cache = take('cache', (v) => r.parseEnum(v, CACHE_MODES)) ?? 'auto';
  const noCache = bool('no-cache');
  const buildNetwork = optional('build-network', (v) =>
    NETWORK_RE.test(v)
      ? { ok: true, value: v }
      : { ok: false, problem: `${r.show(v)} is not a network name; e.g. host` },
  );
  const push = bool('push');
  const lint = take('lint', (v) => r.parseEnum(v, LINT_MODES)) ?? 'warn';
  const maxImageSize = optional('max-image-size', (v) => r.parseSize(v, '400MB'));
  const context = take('context', (v) => localPath(v, '. or ./app')) ?? '.';
  const file = given('file')
    ? (take('file', (v) => localPath(v, 'Dockerfile or docker/app.Dockerfile')) ?? '')
    : path.join(context, 'Dockerfile');
  if (platforms !== 'auto' && platforms.length > 1 && !push) {
    fail(
      'platform',
      `names ${platforms.length} platforms, which needs push: true (a host runs one platform); e.g. linux/amd64`,
    );
  }

  // --- host connection -----------------------------------------------------------------------
  const timeoutMs = take('ssh-timeout', (v) => r.parseDuration(v, '30s')) ?? 30_000;
  const insecure = bool('insecure-skip-host-key-check');
  let targetCfg: Target = { kind: 'local', timeoutMs };
  if (given('host')) {
    const host = take('host', r.parseHost);
    const port = take('port', r.parsePort);
    const username = given('username') ? take('username', r.parseUsername) : undefined;
    if (!given('username')) fail('username', 'is required with host; e.g. deploy');
    const passphrase = given('ssh-key-passphrase') ? read('ssh-key-passphrase') : undefined;
    let privateKey: string | undefined;
    if (!given('ssh-key')) {
      fail(
        'ssh-key',
        'is required with host; e.g. ${{ secrets.DEPLOY_SSH_KEY }} (an OpenSSH or PEM private key)',
      );
    } else {
      privateKey = read('ssh-key');
      const problem = keyProblem(privateKey, passphrase);
      if (problem) fail(problem.input, problem.text);
    }
    const knownHosts = optional('known-hosts', parseKnownHosts) ?? [];
    const fingerprint = optional('host-fingerprint', r.parseFingerprint);
    if (!given('known-hosts') && !given('host-fingerprint') && !insecure) {
      fail(
        'known-hosts',
        "or 'host-fingerprint' is required with host, to verify the host key; e.g. the output of 'ssh-keyscan deploy.example.com' (or insecure-skip-host-key-check: true)",
      );
    }
    if (insecure && (given('known-hosts') || given('host-fingerprint'))) {
      warnings.push(
        'insecure-skip-host-key-check is true although a host key is given: the host key is verified anyway',
      );
    }
    if (host !== undefined && port !== undefined && username !== undefined && privateKey !== undefined) {
      targetCfg = {
        kind: 'ssh',
        host,
        port,
        username,
        privateKey,
        ...(passphrase !== undefined ? { passphrase } : {}),
        knownHosts,
        ...(fingerprint !== undefined ? { fingerprint } : {}),
        insecureSkipHostKeyCheck: insecure && !given('known-hosts') && !given('host-fingerprint'),
        timeoutMs,
      };
    }
  } else {
    for (const n of ['username', 'ssh-key', 'known-hosts', 'host-fingerprint'] as const) {
      if (given(n))
        warnings.push(`'${n}' is ignored: 'host' is empty, so the runner's own Docker daemon is used`);
    }
    // Ignored, but still validated: every input is checked, whatever the other inputs say.
    take('port', r.parsePort);
    optional('username', r.parseUsername);
    optional('known-hosts', parseKnownHosts);
    optional('host-fingerprint', r.parseFingerprint);
  }

  // --- shipping ------------------------------------------------------------------------------
  const transferIn = take('transfer', (v) => r.parseEnum(v, TRANSFERS)) ?? 'auto';
  const hasHost = given('host');
  let transfer: Transfer;
  if (transferIn === 'auto') transfer = !hasHost ? 'none' : push ? 'registry' : 'ssh';
  else transfer = transferIn;
  if ((transfer === 'ssh' || transfer === 'ssh-full') && !hasHost) {
    fail('transfer', `${transfer} needs a host to send to; e.g. host: deploy.example.com, or transfer: none`);
  }
  if (transfer === 'registry' && !push)
    fail(
      'transfer',
      'registry needs push: true (the host pulls what the runner pushed); e.g. push: true, or transfer: ssh',
    );
  if (transfer === 'registry' && repository && !repository.domain) {
    warnings.push(`transfer: registry with image ${repository.name} (no registry domain) means Docker Hub`);
  }
  const regUser = read('registry-username');
  const regPass = read('registry-password');
  if (regPass !== '' && regUser === '')
    fail('registry-username', 'is required with registry-password; e.g. ${{ github.actor }}');
  if (regUser !== '' && regPass === '')
    fail('registry-password', 'is required with registry-username; e.g. ${{ secrets.GITHUB_TOKEN }}');
  if (regUser !== '' && !/^[^\s:]{1,255}$/.test(regUser))
    fail('registry-username', `${r.show(regUser)} is not a user name; e.g. acme-bot`);

  // --- blue/green ----------------------------------------------------------------------------
  let app = optional('app', (v) =>
    r.APP_RE.test(v) && v.length <= 100
      ? { ok: true, value: v }
      : {
          ok: false,
          problem: `${r.show(v)} is not an app name (lowercase letters, digits, _ . -, starting with a letter or digit); e.g. myapp`,
        },
  );
  if (!given('app')) app = repository?.basename;
  if (app === undefined && !given('app') && !given('image') && command !== 'deploy' && command !== 'build') {
    fail(
      'app',
      `or 'image' is required for command ${command}: containers are named <app>-blue and <app>-green; e.g. myapp`,
    );
  }
  const ports = take('ports', (v) => {
    const list = r.splitList(v, true);
    if (list.length !== 2)
      return { ok: false, problem: `${r.show(v)} is not two ports (blue,green); e.g. 3001,3002` };
    const [b, g] = list.map(r.parsePort) as [r.Result<number>, r.Result<number>];
    if (!b.ok) return b;
    if (!g.ok) return g;
    if (b.value === g.value)
      return { ok: false, problem: `blue and green are both ${b.value}: they must differ; e.g. 3001,3002` };
    return { ok: true, value: { blue: b.value, green: g.value } };
  });
  const containerPort = take('container-port', r.parsePort);
  const bindAddress = take('bind-address', (v): r.Result<string> => {
    // An address, not a host name ('deadbeef' and 'cafe.be' are hex-looking host names).
    const a = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
    return isIP(a) !== 0 && !a.includes('%')
      ? { ok: true, value: a }
      : { ok: false, problem: `${r.show(v)} is not an IP address; e.g. 127.0.0.1` };
  });
  const network = optional('network', (v) =>
    NETWORK_RE.test(v)
      ? { ok: true, value: v }
      : { ok: false, problem: `${r.show(v)} is not a network name; e.g. host or web` },
  );
  const env = take('env', (v) => r.parseKeyValues(v, r.ENV_KEY, 'NODE_ENV=production', true)) ?? [];
  const envFile = optional('env-file', (v) => r.parseRemotePath(v, '/srv/myapp/.env'));
  const volumes = take('volumes', r.parseVolumes) ?? [];
  const restart = take('restart', r.parseRestart);
  const healthCheck = take('health-check', (v) => r.parseEnum(v, HEALTH_CHECKS)) ?? 'http';
  const healthPath = take('health-path', (v) =>
    /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(v)
      ? { ok: true, value: v }
      : { ok: false, problem: `${r.show(v)} is not a URL path; e.g. /healthz` },
  );
  const healthTimeoutMs = take('health-timeout', (v) => r.parseDuration(v, '60s'));
  const proxy = take('proxy', (v) => r.parseEnum(v, PROXIES)) ?? 'nginx';
  const upstreamFile = given('nginx-upstream-file')
    ? take('nginx-upstream-file', (v) => r.parseRemotePath(v, '/etc/nginx/conf.d/myapp.upstream'))
    : `/etc/nginx/conf.d/${app ?? 'app'}.upstream`;
  const nginxTestCommand = take('nginx-test-command', (v) => r.parseCommandLine(v, [], 'nginx -t'));
  const reloadCommand = take('reload-command', (v) =>
    r.parseCommandLine(v, [], 'sudo systemctl reload nginx'),
  );
  const switchCommand = optional('switch-command', (v) =>
    r.parseCommandLine(v, SWITCH_VARS, '/usr/local/bin/switch-upstream $BG_COLOR $BG_PORT'),
  );
  if (proxy === 'command' && !given('switch-command')) {
    fail(
      'switch-command',
      'is required with proxy: command; e.g. /usr/local/bin/switch-upstream $BG_COLOR $BG_PORT',
    );
  }
  const drainMs = take('drain', (v) => r.parseDuration(v, '10s'));
  const keepOldContainer = bool('keep-old-container');
  const lockTimeoutMs = take('lock-timeout', (v) => r.parseDuration(v, '10m'));
  const runtime = take('runtime', (v) => r.parseEnum(v, RUNTIMES)) ?? 'container';
  const composeFile = optional('compose-file', (v) => r.parseRemotePath(v, '/srv/myapp/docker-compose.yml'));
  if (runtime === 'compose' && !given('compose-file')) {
    fail('compose-file', 'is required with runtime: compose; e.g. /srv/myapp/docker-compose.yml');
  }
  const composeProject = optional('compose-project', (v) =>
    /^[a-z0-9][a-z0-9_-]*$/.test(v)
      ? { ok: true, value: v }
      : {
          ok: false,
          problem: `${r.show(v)} is not a compose project name (lowercase letters, digits, _ -); e.g. myapp`,
        },
  );
  const composeServices = take('compose-services', (v) => {
    const list = r.splitList(v, true);
    if (list.length !== 2 || !list.every((n) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n))) {
      return {
        ok: false,
        problem: `${r.show(v)} is not two service names (blue first, then green); e.g. blue,green`,
      };
    }
    if (list[0] === list[1])
      return { ok: false, problem: `${r.show(v)} names the same service twice; e.g. blue,green` };
    return { ok: true, value: { blue: list[0]!, green: list[1]! } };
  });
  const composeImageEnv = take('compose-image-env', (v) =>
    r.ENV_KEY.test(v)
      ? { ok: true, value: v }
      : { ok: false, problem: `${r.show(v)} is not a variable name; e.g. IMAGE` },
  );
  const rollbackTo = take('rollback-to', (v): r.Result<DeployConfig['rollbackTo']> =>
    v === 'previous'
      ? { ok: true, value: 'previous' as const }
      : r.TAG_RE.test(v)
        ? { ok: true, value: { buildTag: v } }
        : {
            ok: false,
            problem: `${r.show(v)} is neither previous nor a build tag; e.g. previous or 20261201093000-abc1234`,
          },
  );

  // --- retention -----------------------------------------------------------------------------
  const keepImages = take('keep-images', (v) => r.parseInteger(v, 1, 1000, '3'));
  const pruneDangling = bool('prune-dangling');
  const pruneBuildCache = take('prune-build-cache', (v): r.Result<PruneBuildCache> => {
    if (['false', 'False', 'FALSE'].includes(v)) return { ok: true, value: false };
    if (v === 'all') return { ok: true, value: 'all' };
    const d = r.parseDuration(v, '168h');
    if (d.ok) return { ok: true, value: { olderThanMs: d.value } };
    return { ok: false, problem: `${r.show(v)} is not false, all or an age; e.g. 168h` };
  });
  const pruneScope = take('prune-scope', (v) => r.parseEnum(v, PRUNE_SCOPES)) ?? 'app';
  const maxDiskUsage = optional('max-disk-usage', (v) => r.parseSizeOrPercent(v, '80% or 20GB'));
  const minFreeSpace = take('min-free-space', (v) => r.parseSizeOrPercent(v, '1GB or 10%'));
  const buildCacheBudget = optional('build-cache-budget', (v) => r.parseSize(v, '5GB'));
  const protectLabels = take('protect-labels', (v) => r.parseKeyValues(v, r.LABEL_KEY, 'keep=true')) ?? [];

  if (errors.length > 0) return { ok: false, errors };

  const config: Config = {
    command,
    dryRun,
    build: {
      context,
      file,
      ...(repository ? { repository } : {}),
      tags,
      platforms,
      buildArgs,
      buildTag,
      buildTagArg,
      ...(target ? { target } : {}),
      labels,
      cache,
      noCache,
      ...(buildNetwork ? { network: buildNetwork } : {}),
      push,
      lint,
      ...(maxImageSize !== undefined ? { maxImageSize } : {}),
    },
    target: targetCfg,
    ship: { transfer, ...(regUser !== '' ? { registryAuth: { username: regUser, password: regPass } } : {}) },
    deploy: {
      app: app!,
      ports: ports!,
      containerPort: containerPort!,
      bindAddress: bindAddress!,
      ...(network ? { network } : {}),
      env,
      ...(envFile ? { envFile } : {}),
      volumes,
      restart: restart!,
      healthCheck,
      healthPath: healthPath!,
      healthTimeoutMs: healthTimeoutMs!,
      proxy,
      nginxUpstreamFile: upstreamFile!,
      nginxTestCommand: nginxTestCommand!,
      reloadCommand: reloadCommand!,
      ...(switchCommand ? { switchCommand } : {}),
      drainMs: drainMs!,
      keepOldContainer,
      lockTimeoutMs: lockTimeoutMs!,
      rollbackTo: rollbackTo!,
      runtime,
      ...(runtime === 'compose'
        ? {
            compose: {
              file: composeFile!,
              ...(composeProject ? { project: composeProject } : {}),
              services: composeServices!,
              imageEnv: composeImageEnv!,
            },
          }
        : {}),
    },
    retention: {
      keepImages: keepImages!,
      pruneDangling,
      pruneBuildCache: pruneBuildCache!,
      pruneScope,
      ...(maxDiskUsage ? { maxDiskUsage } : {}),
      protectLabels,
    },
    guard: { minFreeSpace: minFreeSpace!, ...(buildCacheBudget !== undefined ? { buildCacheBudget } : {}) },
    github,
  };
  return { ok: true, config: deepFreeze(config), warnings };
}

function tagProblem(v: string): r.Result<string> {
  return {
    ok: false,
    problem: `${r.show(v)} is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most 128); e.g. 20261201093000-abc1234`,
  };
}

/** A path on the runner, relative to the workspace: no NUL or newline. */
function localPath(v: string, example: string): r.Result<string> {
  if (/[\0\n\r]/.test(v))
    return { ok: false, problem: `${r.show(v)} contains a NUL or newline; e.g. ${example}` };
  return { ok: true, value: v };
}

/** The key must parse with ssh2 (with the passphrase) and be a private key. The key is never echoed. */
function keyProblem(
  key: string,
  passphrase: string | undefined,
): { input: InputName; text: string } | undefined {
  let parsed: ReturnType<typeof ssh2.utils.parseKey>;
  try {
    parsed = ssh2.utils.parseKey(key, passphrase);
  } catch (e) {
    parsed = e instanceof Error ? e : new Error(String(e));
  }
  if (parsed instanceof Error) {
    const m = parsed.message;
    if (/passphrase/i.test(m) || /bad decrypt|decrypt/i.test(m)) {
      return passphrase === undefined
        ? {
            input: 'ssh-key-passphrase',
            text: 'is required: ssh-key is encrypted; e.g. ${{ secrets.DEPLOY_KEY_PASSPHRASE }}',
          }
        : {
            input: 'ssh-key-passphrase',
            text: 'does not decrypt ssh-key; e.g. the passphrase the key was made with (ssh-keygen -N)',
          };
    }
    return {
      input: 'ssh-key',
      text: `does not parse as a private key (${m}); e.g. the contents of ~/.ssh/id_ed25519`,
    };
  }
  const k = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!k || !k.isPrivateKey()) {
    return {
      input: 'ssh-key',
      text: 'is a public key: give the private key; e.g. the contents of ~/.ssh/id_ed25519 (not .pub)',
    };
  }
  // ssh2 parses some damaged keys (a line lost or garbled in a copy and paste) without complaint;
  // signing with the key and checking the signature against its own public half catches them.
  const probe = Buffer.from('docker-bluegreen-action key check');
  let works: boolean;
  try {
    // RSA with SHA-256 (rsa-sha2-256): SHA-1 signatures are disabled by some OpenSSL policies.
    const algo = k.type === 'ssh-rsa' ? 'sha256' : undefined;
    const sig: unknown = k.sign(probe, algo);
    works = Buffer.isBuffer(sig) && k.verify(probe, sig, algo) === true;
  } catch {
    works = false;
  }
  if (!works) {
    return {
      input: 'ssh-key',
      text: 'is damaged: it parses but cannot sign (a line lost or changed when it was copied?); e.g. the contents of ~/.ssh/id_ed25519',
    };
  }
  return undefined;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o) && !Buffer.isBuffer(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
