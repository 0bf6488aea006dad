// known_hosts lines and host-key matching. Key blobs are parsed by ssh2 (no key parser here);
// what is left is the line's field layout and OpenSSH's host pattern rules (sshd(8), known_hosts).
import { createHash, createHmac } from 'node:crypto';
import ssh2 from 'ssh2';
import { show, type Result } from './rules.js';

export interface KnownHost {
  readonly marker?: 'cert-authority' | 'revoked';
  readonly patterns: readonly string[];
  readonly keyType: string;
  /** The public key blob, as the server sends it in the key exchange. */
  readonly blob: Buffer;
}

export function parseKnownHosts(raw: string): Result<readonly KnownHost[]> {
  const example = "the output of 'ssh-keyscan -p 22 deploy.example.com'";
  const out: KnownHost[] = [];
  for (const line of raw.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const fields = t.split(/\s+/);
    let marker: KnownHost['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'cert-authority' && m !== 'revoked') {
        return { ok: false, problem: `line ${show(t)} has an unknown marker @${m}; e.g. ${example}` };
      }
      marker = m;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) {
      return { ok: false, problem: `line ${show(t)} is not 'host keytype base64-key'; e.g. ${example}` };
    }
    const key = ssh2.utils.parseKey(`${keyType} ${b64}`);
    if (key instanceof Error) {
      return {
        ok: false,
        problem: `line ${show(t)} holds no valid public key (${key.message}); e.g. ${example}`,
      };
    }
    const parsed = Array.isArray(key) ? key[0] : key;
    if (!parsed || parsed.type !== keyType) {
      return { ok: false, problem: `line ${show(t)}: key type does not match the key; e.g. ${example}` };
    }
    out.push({
      ...(marker ? { marker } : {}),
      patterns: hosts.split(','),
      keyType,
      blob: parsed.getPublicSSH(),
    });
  }
  if (out.length === 0) return { ok: false, problem: `holds no known_hosts line; e.g. ${example}` };
  return { ok: true, value: out };
}

/** `host` on port 22, `[host]:port` otherwise: the name OpenSSH looks up. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return globToRegExp(pattern).test(name);
}

/** Does this line apply to the host? Negated patterns (`!pat`) veto a match. */
export function lineMatchesHost(entry: KnownHost, host: string, port: number): boolean {
  // ssh lowercases the host name before it looks it up (and hashes it): `Deploy.Example.com` is
  // found under a hashed `deploy.example.com`. Plain patterns compare case-insensitively anyway.
  const name = hostKeyName(host.toLowerCase(), port);
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** `SHA256:` + unpadded base64 of the key blob's SHA-256, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

/** Decide whether the key the server offered is the one we were told to expect. */
export function verifyHostKey(
  offered: Buffer,
  expect: { knownHosts: readonly KnownHost[]; fingerprint?: string },
  host: string,
  port: number,
): HostKeyVerdict {
  const fp = fingerprintOf(offered);
  const lines = expect.knownHosts.filter((k) => lineMatchesHost(k, host, port));
  // A revoked key is refused whatever else vouches for it (as ssh does), host-fingerprint included.
  if (lines.some((k) => k.marker === 'revoked' && k.blob.equals(offered))) {
    return {
      ok: false,
      reason: `host key of ${hostKeyName(host, port)} (${fp}) is marked @revoked in known-hosts`,
    };
  }
  if (expect.fingerprint !== undefined) {
    if (fp === expect.fingerprint) return { ok: true };
    if (expect.knownHosts.length === 0) {
      return {
        ok: false,
        reason: `host key mismatch: ${hostKeyName(host, port)} offered ${fp}, host-fingerprint expects ${expect.fingerprint}`,
      };
    }
  }
  const plain = lines.filter((k) => k.marker === undefined);
  if (plain.some((k) => k.blob.equals(offered))) return { ok: true };
  if (expect.knownHosts.length > 0 && plain.length === 0) {
    return {
      ok: false,
      reason: `host key not verified: known-hosts has no line for ${hostKeyName(host, port)} (run 'ssh-keyscan -p ${port} ${host}')${expect.fingerprint ? `, and it offered ${fp}, not host-fingerprint ${expect.fingerprint}` : ''}`,
    };
  }
  return {
    ok: false,
    reason: `host key mismatch: ${hostKeyName(host, port)} offered ${fp}, which is not in known-hosts${expect.fingerprint ? ' nor host-fingerprint' : ''}`,
  };
}

/** Key types named in known-hosts for this host, to ask the server for one of them first. */
export function hostKeyTypesFor(knownHosts: readonly KnownHost[], host: string, port: number): string[] {
  return [
    ...new Set(knownHosts.filter((k) => !k.marker && lineMatchesHost(k, host, port)).map((k) => k.keyType)),
  ];
}
