// ssh-key and ssh-key-passphrase, parsed by ssh2 the way the connection will use them, with keys
// made by ssh-keygen and by ssh2 itself. A key (or passphrase) never appears in a problem.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { parseConfig, type InputName, type ParseResult } from '../../src/config/parse.js';
import type { GithubContext, SshTarget } from '../../src/config/schema.js';

const GITHUB: GithubContext = { serverUrl: 'https://github.com', workspace: '/w', runnerTemp: '/tmp' };
const PASS = 'correct horse battery';

let dir: string;
const keys: Record<string, string> = {};
let hostLine: string;

function keygen(name: string, args: string[], passphrase = ''): string {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', passphrase, '-C', name, '-f', file]);
  return readFileSync(file, 'utf8');
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bg-ssh-key-'));
  keys.ed25519 = keygen('ed25519', ['-t', 'ed25519']);
  keys.rsaPem = keygen('rsa-pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']);
  keys.rsaOpenssh = keygen('rsa-openssh', ['-t', 'rsa', '-b', '2048']);
  keys.ecdsa = keygen('ecdsa', ['-t', 'ecdsa', '-b', '256']);
  keys.ed25519Encrypted = keygen('ed25519-enc', ['-t', 'ed25519'], PASS);
  keys.rsaPemEncrypted = keygen('rsa-pem-enc', ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], PASS);
  keys.ed25519Pub = readFileSync(path.join(dir, 'ed25519.pub'), 'utf8');
  keys.rsaPub = readFileSync(path.join(dir, 'rsa-pem.pub'), 'utf8');
  keys.ssh2Ed25519 = ssh2.utils.generateKeyPairSync('ed25519').private;
  keys.ssh2RsaEncrypted = ssh2.utils.generateKeyPairSync('rsa', {
    bits: 2048,
    passphrase: PASS,
    cipher: 'aes256-cbc',
  }).private;
  hostLine = `deploy.example.com ${ssh2.utils.generateKeyPairSync('ed25519').public}`;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parse(key: string, passphrase = ''): ParseResult {
  const inputs: Partial<Record<InputName, string>> = {
    image: 'myapp',
    host: 'deploy.example.com',
    username: 'deploy',
    'ssh-key': key,
    'ssh-key-passphrase': passphrase,
    'known-hosts': hostLine,
  };
  return parseConfig((n) => inputs[n] ?? '', GITHUB, new Date('2026-01-01T00:00:00Z'));
}

function target(key: string, passphrase = ''): SshTarget {
  const r = parse(key, passphrase);
  if (!r.ok) throw new Error(`expected a config, got:\n${r.errors.join('\n')}`);
  if (r.config.target.kind !== 'ssh') throw new Error('expected an ssh target');
  return r.config.target;
}

/** The one problem, on `input`; neither the key nor the passphrase shows in any problem. */
function problem(key: string, passphrase: string, input: InputName): string {
  const r = parse(key, passphrase);
  if (r.ok) throw new Error('expected a problem');
  expect(r.errors).toHaveLength(1);
  const all = r.errors.join('\n');
  for (const line of key.split(/\r?\n/)) {
    const t = line.trim();
    if (t.length >= 8 && !t.startsWith('-----')) expect(all).not.toContain(t);
  }
  if (passphrase !== '') expect(all).not.toContain(passphrase);
  expect(r.errors[0]).toMatch(new RegExp(`^input '${input}': `));
  expect(r.errors[0]).toMatch(/e\.g\. \S/);
  return r.errors[0]!;
}

describe('private keys that parse', () => {
  test.each(['ed25519', 'rsaPem', 'rsaOpenssh', 'ecdsa', 'ssh2Ed25519'])('%s', (name) => {
    const key = keys[name]!;
    const t = target(key);
    expect(t.privateKey).toBe(key);
    expect(t.passphrase).toBeUndefined();
    expect(t.username).toBe('deploy');
  });

  test('the PEM key really is PEM and the OpenSSH one OpenSSH', () => {
    expect(keys.rsaPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(keys.rsaOpenssh).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
  });

  test('with Windows line endings (a secret pasted from Windows)', () => {
    expect(target(keys.ed25519!.replace(/\n/g, '\r\n')).kind).toBe('ssh');
  });

  test('without its final newline (GitHub secrets drop it)', () => {
    expect(target(keys.rsaPem!.trimEnd()).kind).toBe('ssh');
  });
});

describe('encrypted keys', () => {
  test.each(['ed25519Encrypted', 'rsaPemEncrypted', 'ssh2RsaEncrypted'])('%s with its passphrase', (name) => {
    const t = target(keys[name]!, PASS);
    expect(t.passphrase).toBe(PASS);
  });

  test.each(['ed25519Encrypted', 'rsaPemEncrypted', 'ssh2RsaEncrypted'])(
    '%s without a passphrase asks for ssh-key-passphrase',
    (name) => {
      expect(problem(keys[name]!, '', 'ssh-key-passphrase')).toContain('is required: ssh-key is encrypted');
    },
  );

  test.each(['ed25519Encrypted', 'rsaPemEncrypted', 'ssh2RsaEncrypted'])(
    '%s with a wrong passphrase',
    (name) => {
      expect(problem(keys[name]!, 'wrong passphrase 123', 'ssh-key-passphrase')).toContain(
        'does not decrypt ssh-key',
      );
    },
  );

  test('a passphrase with an unencrypted key is harmless', () => {
    expect(target(keys.ed25519!, PASS).kind).toBe('ssh');
  });
});

describe('what is not a private key', () => {
  test.each(['ed25519Pub', 'rsaPub'])('a public key (%s) given as the private key', (name) => {
    const p = problem(keys[name]!, '', 'ssh-key');
    expect(p).toContain('is a public key: give the private key');
  });

  test.each([
    ['garbage', 'this is not a key at all'],
    [
      'a PEM frame with nothing inside',
      '-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----',
    ],
    ['a password', 'hunter2hunter2'],
  ])('%s', (_what, key) => {
    const p = problem(key, '', 'ssh-key');
    expect(p).toContain('does not parse as a private key');
    expect(p).not.toContain(key);
  });

  test('a truncated key', () => {
    const key = keys.ed25519!;
    expect(problem(key.slice(0, Math.floor(key.length / 2)), '', 'ssh-key')).toContain('does not parse');
  });

  test('a key damaged in a copy and paste (one character changed) is refused, though ssh2 parses it', () => {
    const lines = keys.rsaPem!.split('\n');
    const i = 3; // inside the modulus
    const c = lines[i]![10]!;
    lines[i] = lines[i]!.slice(0, 10) + (c === 'A' ? 'B' : 'A') + lines[i]!.slice(11);
    const damaged = lines.join('\n');
    expect(ssh2.utils.parseKey(damaged)).not.toBeInstanceOf(Error); // the reason for the extra check
    expect(problem(damaged, '', 'ssh-key')).toContain('is damaged');
  });
});

describe('ssh-key is required with host', () => {
  test('missing', () => {
    const r = parse('');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([expect.stringMatching(/^input 'ssh-key': is required with host; e\.g\. /)]);
  });
});
