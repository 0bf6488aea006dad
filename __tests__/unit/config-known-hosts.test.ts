// known_hosts lines and host-key verification, against keys and hashed lines that the real
// OpenSSH tools (ssh-keygen) produce, and fingerprints compared with what `ssh-keygen -lf` prints.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  fingerprintOf,
  hostKeyName,
  hostKeyTypesFor,
  lineMatchesHost,
  parseKnownHosts,
  verifyHostKey,
  type KnownHost,
} from '../../src/config/known-hosts.js';
import { parseFingerprint } from '../../src/config/rules.js';

interface HostKey {
  type: string;
  b64: string;
  /** `type base64` as in a known_hosts line. */
  line: string;
  blob: Buffer;
  file: string;
}

let dir: string;
let ed: HostKey;
let rsa: HostKey;
let ecdsa: HostKey;
let other: HostKey;

function keygen(name: string, type: string): HostKey {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@test`, '-f', file]);
  const [t, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/) as [string, string];
  return { type: t, b64, line: `${t} ${b64}`, blob: Buffer.from(b64, 'base64'), file: `${file}.pub` };
}

/** What `ssh-keygen -lf` prints as the fingerprint of a file's first key. */
function keygenFingerprint(file: string): string {
  return execFileSync('ssh-keygen', ['-E', 'sha256', '-lf', file], { encoding: 'utf8' }).split(/\s+/)[1]!;
}

/** known_hosts lines hashed by `ssh-keygen -H` (the way `ssh-keyscan -H` writes them). */
function hashed(lines: string[]): string[] {
  const file = path.join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, lines.join('\n') + '\n');
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  return readFileSync(file, 'utf8').trim().split('\n');
}

function known(raw: string): readonly KnownHost[] {
  const r = parseKnownHosts(raw);
  if (!r.ok) throw new Error(`expected known hosts, got the problem: ${r.problem}`);
  return r.value;
}

function problem(raw: string): string {
  const r = parseKnownHosts(raw);
  if (r.ok) throw new Error('expected a problem');
  expect(r.problem).toContain("e.g. the output of 'ssh-keyscan -p 22 deploy.example.com'");
  return r.problem;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bg-known-hosts-'));
  ed = keygen('ed', 'ed25519');
  rsa = keygen('rsa', 'rsa');
  ecdsa = keygen('ecdsa', 'ecdsa');
  other = keygen('other', 'ed25519');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseKnownHosts', () => {
  test('a plain line: patterns, key type, and the key blob as the server sends it', () => {
    const [k, ...rest] = known(`deploy.example.com ${ed.line} a comment here`);
    expect(rest).toEqual([]);
    expect(k!.marker).toBeUndefined();
    expect(k!.patterns).toEqual(['deploy.example.com']);
    expect(k!.keyType).toBe('ssh-ed25519');
    expect(k!.blob.equals(ed.blob)).toBe(true);
  });

  test('several lines of several key types, comments, blank lines, CRLF and tabs', () => {
    const raw = [
      '# deploy.example.com:22 SSH-2.0-OpenSSH_9.6',
      '',
      `deploy.example.com,203.0.113.10 ${rsa.line}\r`,
      `   [deploy.example.com]:2222\t${ecdsa.line}   `,
      '   # indented comment',
      `deploy.example.com ${ed.line}`,
    ].join('\n');
    const ks = known(raw);
    expect(ks.map((k) => k.keyType)).toEqual(['ssh-rsa', 'ecdsa-sha2-nistp256', 'ssh-ed25519']);
    expect(ks.map((k) => k.patterns)).toEqual([
      ['deploy.example.com', '203.0.113.10'],
      ['[deploy.example.com]:2222'],
      ['deploy.example.com'],
    ]);
    expect(ks[1]!.blob.equals(ecdsa.blob)).toBe(true);
  });

  test('a hashed line from ssh-keygen -H', () => {
    const [line] = hashed([`deploy.example.com ${ed.line}`]);
    expect(line).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    const [k] = known(line!);
    expect(k!.patterns).toHaveLength(1);
    expect(k!.patterns[0]).toMatch(/^\|1\|/);
    expect(k!.blob.equals(ed.blob)).toBe(true);
  });

  test('@revoked and @cert-authority markers', () => {
    const ks = known(`@revoked * ${rsa.line}\n@cert-authority *.example.com ${ed.line}`);
    expect(ks.map((k) => [k.marker, k.patterns, k.keyType])).toEqual([
      ['revoked', ['*'], 'ssh-rsa'],
      ['cert-authority', ['*.example.com'], 'ssh-ed25519'],
    ]);
  });

  test('an unknown marker', () => {
    expect(problem(`@trusted deploy.example.com ${ed.line}`)).toContain('has an unknown marker @trusted');
  });

  test.each([
    ['a host only', 'deploy.example.com'],
    ['no key', 'deploy.example.com ssh-ed25519'],
    ['a marker and a host only', '@revoked deploy.example.com'],
    ['one word of garbage', 'garbage'],
  ])('too few fields: %s', (_what, line) => {
    expect(problem(line)).toContain("is not 'host keytype base64-key'");
  });

  test('a key that does not decode', () => {
    expect(problem('deploy.example.com ssh-ed25519 !!!not-base64!!!')).toContain('holds no valid public key');
    expect(problem('deploy.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBad')).toContain(
      'holds no valid public key',
    );
  });

  test('a key of another type than the line says', () => {
    // ssh2 itself refuses a blob whose embedded type differs from the one it is given
    expect(problem(`deploy.example.com ssh-rsa ${ed.b64}`)).toMatch(/no valid public key|does not match/);
    expect(problem(`deploy.example.com ecdsa-sha2-nistp256 ${rsa.b64}`)).toMatch(
      /no valid public key|does not match/,
    );
  });

  test('a text of only comments and blank lines holds no line', () => {
    expect(problem('# nothing here\n\n   \n')).toContain('holds no known_hosts line');
  });

  test('one bad line among good ones fails the whole input, naming the bad line', () => {
    const p = problem(`deploy.example.com ${ed.line}\nbroken-line`);
    expect(p).toContain('"broken-line"');
  });
});

describe('fingerprintOf equals what ssh-keygen -lf prints', () => {
  test.each(['ed', 'rsa', 'ecdsa'])('%s', (name) => {
    const k = { ed, rsa, ecdsa }[name as 'ed' | 'rsa' | 'ecdsa'];
    const fp = fingerprintOf(k.blob);
    expect(fp).toBe(keygenFingerprint(k.file));
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // and the host-fingerprint input accepts exactly that text
    expect(parseFingerprint(fp)).toEqual({ ok: true, value: fp });
  });

  test('the fingerprint of a parsed known_hosts line is the one ssh-keygen -lf prints for it', () => {
    const file = path.join(dir, 'kh-fp');
    writeFileSync(file, `deploy.example.com ${rsa.line}\n`);
    expect(fingerprintOf(known(readFileSync(file, 'utf8'))[0]!.blob)).toBe(keygenFingerprint(file));
  });
});

describe('hostKeyName', () => {
  test('the bare host on port 22, [host]:port otherwise', () => {
    expect(hostKeyName('deploy.example.com', 22)).toBe('deploy.example.com');
    expect(hostKeyName('deploy.example.com', 2222)).toBe('[deploy.example.com]:2222');
    expect(hostKeyName('2001:db8::1', 2222)).toBe('[2001:db8::1]:2222');
  });
});

describe('lineMatchesHost', () => {
  const line = (hosts: string) => known(`${hosts} ${ed.line}`)[0]!;

  test('a plain name, on port 22 only', () => {
    const k = line('deploy.example.com');
    expect(lineMatchesHost(k, 'deploy.example.com', 22)).toBe(true);
    expect(lineMatchesHost(k, 'deploy.example.com', 2222)).toBe(false);
    expect(lineMatchesHost(k, 'other.example.com', 22)).toBe(false);
    expect(lineMatchesHost(k, 'deploy.example.co', 22)).toBe(false);
    expect(lineMatchesHost(k, 'xdeploy.example.com', 22)).toBe(false);
  });

  test('names compare case-insensitively', () => {
    expect(lineMatchesHost(line('Deploy.Example.COM'), 'deploy.example.com', 22)).toBe(true);
    expect(lineMatchesHost(line('deploy.example.com'), 'DEPLOY.example.com', 22)).toBe(true);
  });

  test('[host]:port matches that port only', () => {
    const k = line('[deploy.example.com]:2222');
    expect(lineMatchesHost(k, 'deploy.example.com', 2222)).toBe(true);
    expect(lineMatchesHost(k, 'deploy.example.com', 22)).toBe(false);
    expect(lineMatchesHost(k, 'deploy.example.com', 2223)).toBe(false);
  });

  test('a comma separated list, IPv4 and IPv6 addresses', () => {
    const k = line('deploy.example.com,203.0.113.10,2001:db8::1,[2001:db8::1]:2222');
    expect(lineMatchesHost(k, '203.0.113.10', 22)).toBe(true);
    expect(lineMatchesHost(k, '2001:db8::1', 22)).toBe(true);
    expect(lineMatchesHost(k, '2001:db8::1', 2222)).toBe(true);
    expect(lineMatchesHost(k, '203.0.113.1', 22)).toBe(false);
  });

  test('wildcards: * any run of characters, ? exactly one', () => {
    const star = line('*.example.com');
    expect(lineMatchesHost(star, 'deploy.example.com', 22)).toBe(true);
    expect(lineMatchesHost(star, 'a.b.example.com', 22)).toBe(true);
    expect(lineMatchesHost(star, 'example.com', 22)).toBe(false);
    expect(lineMatchesHost(star, 'deploy.example.org', 22)).toBe(false);
    const q = line('web?.example.com');
    expect(lineMatchesHost(q, 'web1.example.com', 22)).toBe(true);
    expect(lineMatchesHost(q, 'web10.example.com', 22)).toBe(false);
    expect(lineMatchesHost(q, 'web.example.com', 22)).toBe(false);
    expect(lineMatchesHost(line('*'), 'anything', 2222)).toBe(true);
    expect(lineMatchesHost(line('[*.example.com]:*'), 'deploy.example.com', 2222)).toBe(true);
  });

  test('regular-expression characters in a pattern are literal', () => {
    expect(lineMatchesHost(line('deploy.example.com'), 'deployXexample.com', 22)).toBe(false);
    expect(lineMatchesHost(line('a+b.example.com'), 'aab.example.com', 22)).toBe(false);
    expect(lineMatchesHost(line('a+b.example.com'), 'a+b.example.com', 22)).toBe(true);
  });

  test('a negated pattern vetoes a match, whatever the order', () => {
    const k = line('*.example.com,!staging.example.com');
    expect(lineMatchesHost(k, 'deploy.example.com', 22)).toBe(true);
    expect(lineMatchesHost(k, 'staging.example.com', 22)).toBe(false);
    const first = line('!staging.example.com,*.example.com');
    expect(lineMatchesHost(first, 'staging.example.com', 22)).toBe(false);
    expect(lineMatchesHost(first, 'deploy.example.com', 22)).toBe(true);
    // a negation alone matches nothing
    expect(lineMatchesHost(line('!staging.example.com'), 'deploy.example.com', 22)).toBe(false);
    expect(lineMatchesHost(line('*,!10.0.0.?'), '10.0.0.5', 22)).toBe(false);
  });

  test('hashed lines (ssh-keygen -H) match the hashed name, on its port', () => {
    const [h22, h2222] = hashed([`deploy.example.com ${ed.line}`, `[deploy.example.com]:2222 ${ed.line}`]);
    const k22 = known(h22!)[0]!;
    const k2222 = known(h2222!)[0]!;
    expect(lineMatchesHost(k22, 'deploy.example.com', 22)).toBe(true);
    expect(lineMatchesHost(k22, 'deploy.example.com', 2222)).toBe(false);
    expect(lineMatchesHost(k22, 'other.example.com', 22)).toBe(false);
    expect(lineMatchesHost(k2222, 'deploy.example.com', 2222)).toBe(true);
    expect(lineMatchesHost(k2222, 'deploy.example.com', 22)).toBe(false);
  });

  test('a hashed line matches the host name in any case (ssh lowercases it before it hashes)', () => {
    const [h] = hashed([`deploy.example.com ${ed.line}`]);
    expect(lineMatchesHost(known(h!)[0]!, 'Deploy.Example.COM', 22)).toBe(true);
  });

  test('a malformed hashed pattern matches nothing', () => {
    expect(lineMatchesHost(line('|1|onlysalt'), 'deploy.example.com', 22)).toBe(false);
  });
});

describe('verifyHostKey', () => {
  const host = 'deploy.example.com';

  test('the offered key is in a matching known_hosts line', () => {
    const kh = known(`${host} ${rsa.line}\n${host} ${ed.line}`);
    expect(verifyHostKey(ed.blob, { knownHosts: kh }, host, 22)).toEqual({ ok: true });
    expect(verifyHostKey(rsa.blob, { knownHosts: kh }, host, 22)).toEqual({ ok: true });
  });

  test('another key for the host is a mismatch that names the offered fingerprint', () => {
    const v = verifyHostKey(other.blob, { knownHosts: known(`${host} ${ed.line}`) }, host, 22);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toContain('host key mismatch');
    expect(v.reason).toContain(fingerprintOf(other.blob));
    expect(v.reason).toContain('not in known-hosts');
  });

  test('known-hosts without a line for this host (or this port) is not a verification', () => {
    const kh = known(`other.example.com ${ed.line}\n${host} ${ed.line}`);
    const v = verifyHostKey(ed.blob, { knownHosts: kh }, host, 2222);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toContain('known-hosts has no line for [deploy.example.com]:2222');
    expect(v.reason).toContain("ssh-keyscan -p 2222 deploy.example.com'");
  });

  test('a hashed line verifies on a non-standard port', () => {
    const kh = known(hashed([`[${host}]:2222 ${ed.line}`]).join('\n'));
    expect(verifyHostKey(ed.blob, { knownHosts: kh }, host, 2222)).toEqual({ ok: true });
    expect(verifyHostKey(other.blob, { knownHosts: kh }, host, 2222).ok).toBe(false);
  });

  test('host-fingerprint alone: equal or mismatch', () => {
    const fp = keygenFingerprint(ed.file);
    expect(verifyHostKey(ed.blob, { knownHosts: [], fingerprint: fp }, host, 22)).toEqual({ ok: true });
    const v = verifyHostKey(other.blob, { knownHosts: [], fingerprint: fp }, host, 22);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toContain(`offered ${fingerprintOf(other.blob)}`);
    expect(v.reason).toContain(`host-fingerprint expects ${fp}`);
  });

  test('either host-fingerprint or known-hosts may vouch for the key', () => {
    const kh = known(`${host} ${ed.line}`);
    const fpOther = fingerprintOf(other.blob);
    expect(verifyHostKey(ed.blob, { knownHosts: kh, fingerprint: fpOther }, host, 22)).toEqual({ ok: true });
    expect(verifyHostKey(other.blob, { knownHosts: kh, fingerprint: fpOther }, host, 22)).toEqual({
      ok: true,
    });
    const v = verifyHostKey(rsa.blob, { knownHosts: kh, fingerprint: fpOther }, host, 22);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toContain('nor host-fingerprint');
  });

  test('with neither known-hosts nor fingerprint nothing is verified', () => {
    expect(verifyHostKey(ed.blob, { knownHosts: [] }, host, 22).ok).toBe(false);
  });

  test('a @revoked key is refused even when a plain line lists it', () => {
    const kh = known(`${host} ${ed.line}\n@revoked * ${ed.line}`);
    const v = verifyHostKey(ed.blob, { knownHosts: kh }, host, 22);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toContain('is marked @revoked');
  });

  test('a @revoked key is refused even when host-fingerprint names it', () => {
    const kh = known(`@revoked ${host} ${ed.line}`);
    const v = verifyHostKey(ed.blob, { knownHosts: kh, fingerprint: fingerprintOf(ed.blob) }, host, 22);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toContain('@revoked');
  });

  test('a @revoked line for another host, or of another key, changes nothing', () => {
    const kh = known(`${host} ${ed.line}\n@revoked other.example.com ${ed.line}\n@revoked * ${rsa.line}`);
    expect(verifyHostKey(ed.blob, { knownHosts: kh }, host, 22)).toEqual({ ok: true });
  });

  test('a @cert-authority line is not a host key: the same key offered directly is not verified', () => {
    const kh = known(`@cert-authority *.example.com ${ed.line}`);
    const v = verifyHostKey(ed.blob, { knownHosts: kh }, host, 22);
    expect(v.ok).toBe(false);
  });

  test('a negated pattern excludes the host', () => {
    const kh = known(`*.example.com,!${host} ${ed.line}`);
    expect(verifyHostKey(ed.blob, { knownHosts: kh }, host, 22).ok).toBe(false);
    expect(verifyHostKey(ed.blob, { knownHosts: kh }, 'web.example.com', 22)).toEqual({ ok: true });
  });
});

describe('hostKeyTypesFor', () => {
  test('the key types of plain lines for the host, once each, in order', () => {
    const kh = known(
      [
        `deploy.example.com ${ecdsa.line}`,
        `@revoked deploy.example.com ${rsa.line}`,
        `other.example.com ${rsa.line}`,
        `*.example.com ${ed.line}`,
        `deploy.example.com ${other.line}`,
      ].join('\n'),
    );
    expect(hostKeyTypesFor(kh, 'deploy.example.com', 22)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    expect(hostKeyTypesFor(kh, 'deploy.example.com', 2222)).toEqual([]);
  });
});
