// The bundle as the runner runs it, against the sandbox: the input contract holds at the edge,
// host keys are verified, and a bad input changes nothing on the host.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAction, type ActionRun } from '../harness/runner.js';
import { remoteDocker, runnerEnv, sandbox, snapshot, sshInputs } from '../harness/sandbox.js';

function keypair(passphrase = ''): { priv: string; pub: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bg-key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', path.join(dir, 'k')]);
  return {
    priv: readFileSync(path.join(dir, 'k'), 'utf8'),
    pub: readFileSync(path.join(dir, 'k.pub'), 'utf8').trim(),
  };
}

const base = () => ({
  ...sshInputs(),
  image: 'hostile-app',
  context: '__tests__/fixtures/app',
  'dry-run': 'true',
});
const run = (inputs: Record<string, string>) => runAction(inputs, { env: runnerEnv() });

describe('foundation: the bundle under the runner-faithful harness', () => {
  test('dry-run connects over SSH, verifies the host key and reports the remote Docker version', async () => {
    const r = await run(base());
    expect(r.main.exitCode).toBe(0);
    expect(r.main.log).toContain('host key SHA256:');
    expect(r.main.log).toMatch(
      /Docker 20\.10\.\d+\S* \(API 1\.41\) on deployer@\[127\.0\.0\.1\]:\d+: linux\/amd64/,
    );
    expect(r.outputs['build-tag']).toMatch(/^\d{14}-f00dfee$/);
    expect(r.summary).toContain('deployer@[127.0.0.1]');
  });

  test('a well-formed but wrong known-hosts entry is refused with "host key"', async () => {
    const other = keypair().pub.split(' ').slice(0, 2).join(' ');
    const r = await run({ ...base(), 'known-hosts': `[127.0.0.1]:${sandbox().sshPort} ${other}` });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toMatch(/::error::connect: SSH to .* refused: host key mismatch/);
  });

  test('a known-hosts file without a line for this host is refused with "host key"', async () => {
    const other = keypair().pub.split(' ').slice(0, 2).join(' ');
    const r = await run({ ...base(), 'known-hosts': `deploy.example.com ${other}` });
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toContain('host key not verified: known-hosts has no line for [127.0.0.1]');
  });

  test('a wrong host-fingerprint is refused with "host key"', async () => {
    const inputs: Record<string, string> = { ...base(), 'host-fingerprint': 'SHA256:' + 'A'.repeat(43) };
    delete inputs['known-hosts'];
    const r = await run(inputs);
    expect(r.main.exitCode).not.toBe(0);
    expect(r.main.log).toContain('host key mismatch');
  });

  test('insecure-skip-host-key-check connects but warns loudly with the fingerprint to pin', async () => {
    const inputs: Record<string, string> = { ...base(), 'insecure-skip-host-key-check': 'true' };
    delete inputs['known-hosts'];
    const r = await run(inputs);
    expect(r.main.exitCode).toBe(0);
    expect(r.main.log).toMatch(
      /::warning::insecure-skip-host-key-check: the host key of .* was NOT verified .*host-fingerprint: SHA256:/,
    );
  });

  describe('hostile inputs: each exits non-zero naming the input, and the host is unchanged', () => {
    const pub = keypair().pub;
    const encrypted = keypair('correct horse').priv;
    // [input that must be named, inputs to override (empty string removes an input)]
    const cases: Array<[string, Record<string, string>]> = [
      ['image', { image: 'myapp; rm -rf /' }],
      ['image', { image: '$(touch /tmp/pwned)' }],
      ['image', { image: 'MyApp' }],
      ['image', { image: 'myapp:latest' }],
      ['image', { image: 'myapp`id`' }],
      ['tags', { tags: 'v1;reboot' }],
      ['tags', { tags: 'ok,`id`' }],
      ['app', { app: 'app && curl x' }],
      ['app', { app: '../etc' }],
      ['app', { app: '-rf' }],
      ['host', { host: 'host; rm -rf /' }],
      ['host', { host: '$(id).example.com' }],
      ['host', { host: '-oProxyCommand=touch /tmp/pwned' }],
      ['port', { port: '22; ls' }],
      ['port', { port: '0' }],
      ['port', { port: '70000' }],
      ['username', { username: 'root; id' }],
      ['username', { username: '$(whoami)' }],
      ['nginx-upstream-file', { 'nginx-upstream-file': 'relative/app.upstream' }],
      ['nginx-upstream-file', { 'nginx-upstream-file': '/etc/nginx/../../etc/passwd' }],
      ['nginx-upstream-file', { 'nginx-upstream-file': '/tmp/x\nnginx -s stop' }],
      ['env-file', { 'env-file': '~/.env' }],
      ['volumes', { volumes: '$(id):/data' }],
      ['volumes', { volumes: '/srv/data:/data:rwx' }],
      ['volumes', { volumes: '/srv/data' }],
      ['nginx-test-command', { 'nginx-test-command': 'nginx -t; rm -rf /' }],
      ['reload-command', { 'reload-command': 'nginx -s reload && curl evil' }],
      ['reload-command', { 'reload-command': 'nginx -s reload `id`' }],
      ['reload-command', { 'reload-command': 'nginx -s reload $HOME' }],
      ['switch-command', { proxy: 'command', 'switch-command': 'switch $(id)' }],
      ['switch-command', { proxy: 'command', 'switch-command': 'switch > /etc/passwd' }],
      ['health-timeout', { 'health-timeout': '60' }],
      ['health-timeout', { 'health-timeout': 'abc' }],
      ['drain', { drain: '-5s' }],
      ['lock-timeout', { 'lock-timeout': '10 minutes' }],
      ['ssh-timeout', { 'ssh-timeout': '30s; id' }],
      ['max-image-size', { 'max-image-size': '400XB' }],
      ['max-image-size', { 'max-image-size': '-1MB' }],
      ['max-disk-usage', { 'max-disk-usage': '150%' }],
      ['max-disk-usage', { 'max-disk-usage': '0%' }],
      ['ports', { ports: '3001,3001' }],
      ['ports', { ports: '3001' }],
      ['ports', { ports: '3001,abc' }],
      ['container-port', { 'container-port': '99999' }],
      ['ssh-key', { 'ssh-key': 'not a key $(id)' }],
      ['ssh-key', { 'ssh-key': pub }],
      ['ssh-key-passphrase', { 'ssh-key': encrypted }],
      ['ssh-key-passphrase', { 'ssh-key': encrypted, 'ssh-key-passphrase': 'wrong' }],
      ['host-fingerprint', { 'host-fingerprint': 'SHA256:short' }],
      ['host-fingerprint', { 'host-fingerprint': 'MD5:aa:bb:cc' }],
      ['known-hosts', { 'known-hosts': 'garbage line' }],
      ['known-hosts', { 'known-hosts': '127.0.0.1 ssh-ed25519 AAAAnotbase64!!' }],
      ['dry-run', { 'dry-run': 'yes' }],
      ['push', { push: '1' }],
      ['insecure-skip-host-key-check', { 'insecure-skip-host-key-check': 'maybe' }],
      ['command', { command: 'deploy; rm' }],
      ['cache', { cache: 'redis' }],
      ['transfer', { transfer: 'ftp' }],
      ['proxy', { proxy: 'haproxy' }],
      ['restart', { restart: 'sometimes' }],
      ['keep-images', { 'keep-images': '0' }],
      ['keep-images', { 'keep-images': 'three' }],
      ['build-args', { 'build-args': 'bad key=1' }],
      ['build-args', { 'build-args': 'BUILD_TAG=mine' }],
      ['labels', { labels: '=value' }],
      ['platform', { platform: 'linux/amd64;id' }],
      ['platform', { platform: 'darwin/m1' }],
      ['bind-address', { 'bind-address': '0.0.0.0; id' }],
      ['health-path', { 'health-path': 'healthz' }],
      ['health-path', { 'health-path': '/x y' }],
      ['prune-build-cache', { 'prune-build-cache': 'sometimes' }],
      ['prune-scope', { 'prune-scope': 'everything' }],
      ['rollback-to', { 'rollback-to': '../../x' }],
      ['build-tag', { 'build-tag': 'tag with space' }],
      ['lint', { lint: 'loud' }],
      // missing required combinations
      ['username', { username: '' }],
      ['ssh-key', { 'ssh-key': '' }],
      ['known-hosts', { 'known-hosts': '' }],
      ['switch-command', { proxy: 'command' }],
      ['image', { image: '' }],
      ['transfer', { host: '', transfer: 'ssh' }],
      ['platform', { platform: 'linux/amd64,linux/arm64' }],
      ['registry-username', { 'registry-password': 'hunter2' }],
      ['transfer', { transfer: 'registry' }],
    ];

    let before = '';
    const runs: Array<[string, Record<string, string>, ActionRun]> = [];

    beforeAll(async () => {
      before = await snapshot(remoteDocker());
      // four at a time, as separate runner processes
      for (let i = 0; i < cases.length; i += 4) {
        const batch = cases.slice(i, i + 4);
        const results = await Promise.all(
          batch.map(([, over]) => {
            const inputs: Record<string, string> = { ...base(), 'dry-run': 'false', ...over };
            for (const [k, v] of Object.entries(over)) if (v === '') delete inputs[k];
            return run(inputs);
          }),
        );
        batch.forEach(([name, over], j) => runs.push([name, over, results[j]!]));
      }
    }, 300_000);

    test(`at least 40 hostile inputs (${cases.length})`, () =>
      expect(cases.length).toBeGreaterThanOrEqual(40));

    test.each(cases.map(([name, over], i) => [i, name, JSON.stringify(over).slice(0, 60)]))(
      '#%i %s %s',
      (i) => {
        const [name, over, r] = runs[i as number]!;
        expect(r.main.exitCode).not.toBe(0);
        expect(r.main.log).toContain(`::error::input '${name}'`);
        expect(r.main.log).toContain('Nothing was built or touched');
        // Secrets and hostile key material are never echoed (masking aside: look at the raw log).
        const printed = r.main.rawLog
          .split('\n')
          .filter((l) => !l.startsWith('::add-mask::'))
          .join('\n');
        if (over['ssh-key']) expect(printed).not.toContain(over['ssh-key'].slice(0, 30));
        if (over['registry-password']) expect(printed).not.toContain(over['registry-password']);
        if (over['ssh-key-passphrase']) expect(printed).not.toContain(over['ssh-key-passphrase']);
      },
    );

    test('the remote daemon has the same images and containers afterwards', async () => {
      expect(await snapshot(remoteDocker())).toBe(before);
    });
  });
});
