// Pure validators, one per kind of input value. Each returns the parsed value or a problem
// sentence ("what is wrong; e.g. a good value") that parse.ts prefixes with the input's name.
// Nothing here does I/O.
import { isIP } from 'node:net';
import shellQuote from 'shell-quote';

export type Result<T> = { ok: true; value: T } | { ok: false; problem: string };
const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const bad = <T>(problem: string): Result<T> => ({ ok: false, problem });

/** A value quoted for an error line: escapes newlines and control characters, capped in length. */
export function show(value: string): string {
  const cut = value.length > 80 ? value.slice(0, 77) + '...' : value;
  return JSON.stringify(cut);
}

// --- booleans and enumerations ---------------------------------------------------------------

/** Exactly the YAML 1.2 core-schema spellings core.getBooleanInput accepts. */
export function parseBool(raw: string): Result<boolean> {
  if (['true', 'True', 'TRUE'].includes(raw)) return ok(true);
  if (['false', 'False', 'FALSE'].includes(raw)) return ok(false);
  return bad(`${show(raw)} is not a boolean (true | True | TRUE | false | False | FALSE); e.g. true`);
}

export function parseEnum<T extends string>(raw: string, allowed: readonly T[]): Result<T> {
  if ((allowed as readonly string[]).includes(raw)) return ok(raw as T);
  return bad(`${show(raw)} is not one of ${allowed.join(', ')}; e.g. ${allowed[0]}`);
}

// --- numbers, durations, sizes, percentages --------------------------------------------------

export function parsePort(raw: string): Result<number> {
  if (!/^[0-9]{1,5}$/.test(raw)) return bad(`${show(raw)} is not a port number (1-65535); e.g. 3001`);
  const n = Number(raw);
  if (n < 1 || n > 65535) return bad(`${show(raw)} is out of range (1-65535); e.g. 3001`);
  return ok(n);
}

export function parseInteger(raw: string, min: number, max: number, example: string): Result<number> {
  if (!/^[0-9]{1,9}$/.test(raw)) return bad(`${show(raw)} is not a whole number; e.g. ${example}`);
  const n = Number(raw);
  if (n < min || n > max) return bad(`${show(raw)} is out of range (${min}-${max}); e.g. ${example}`);
  return ok(n);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Go-style durations: `90s`, `10m`, `1h30m`, `168h`, `500ms`, `7d`. Returns milliseconds. */
export function parseDuration(raw: string, example = '90s'): Result<number> {
  if (raw === '0') return ok(0);
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) {
    total += Number(m[1]) * DURATION_UNITS[m[2] as string]!;
    pos = re.lastIndex;
  }
  if (raw === '' || pos !== raw.length) {
    const hint = /^[0-9]+$/.test(raw) ? ' (add a unit: ms, s, m, h or d)' : '';
    return bad(`${show(raw)} is not a duration${hint}; e.g. ${example}`);
  }
  if (total > 366 * DURATION_UNITS.d!) return bad(`${show(raw)} is longer than a year; e.g. ${example}`);
  return ok(Math.round(total));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** `400MB` (decimal), `1.5GiB` (binary), `512` (bytes). Returns bytes. */
export function parseSize(raw: string, example = '400MB'): Result<number> {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$/.exec(raw);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase() || 'b'] : undefined;
  if (!m || unit === undefined) {
    return bad(`${show(raw)} is not a size (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB); e.g. ${example}`);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes <= 0) return bad(`${show(raw)} must be more than zero; e.g. ${example}`);
  if (!Number.isSafeInteger(bytes)) return bad(`${show(raw)} is too large; e.g. ${example}`);
  return ok(bytes);
}

/** `80%`, 1 to 100. */
export function parsePercent(raw: string, example = '80%'): Result<number> {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(raw);
  if (!m) return bad(`${show(raw)} is not a percentage; e.g. ${example}`);
  const n = Number(m[1]);
  if (n < 1 || n > 100) return bad(`${show(raw)} is out of range (1%-100%); e.g. ${example}`);
  return ok(n);
}

export type SizeOrPercent = { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

export function parseSizeOrPercent(raw: string, example: string): Result<SizeOrPercent> {
  if (raw.endsWith('%')) {
    const p = parsePercent(raw, example);
    return p.ok ? ok({ kind: 'percent', percent: p.value }) : p;
  }
  const s = parseSize(raw, example);
  if (s.ok) return ok({ kind: 'bytes', bytes: s.value });
  return bad(`${show(raw)} is neither a size nor a percentage; e.g. ${example}`);
}

// --- lists and KEY=VALUE lines ---------------------------------------------------------------

/** Splits on newlines (and commas when asked), trims, drops empty lines and `#` comments. */
export function splitList(raw: string, commas: boolean): string[] {
  return raw
    .split(commas ? /[\n,]/ : /\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** `KEY=VALUE` lines; `secret` keeps values out of the problem text. Order is kept. */
export function parseKeyValues(
  raw: string,
  keyRe: RegExp,
  example: string,
  secret = false,
): Result<ReadonlyArray<readonly [string, string]>> {
  const out: Array<readonly [string, string]> = [];
  const lines = raw.split('\n');
  for (const [i, line] of lines.entries()) {
    const t = line.replace(/\r$/, '');
    if (t.trim() === '' || t.trim().startsWith('#')) continue;
    const eq = t.indexOf('=');
    const key = (eq < 0 ? t : t.slice(0, eq)).trim();
    // A secret line without '=' is not shown at all: it may be a value (or part of one) on its own.
    if (eq < 0 && secret) return bad(`line ${i + 1} is not KEY=VALUE (not shown); e.g. ${example}`);
    const shown = secret ? show(key + '=…') : show(t);
    if (eq < 0) return bad(`line ${shown} is not KEY=VALUE; e.g. ${example}`);
    if (!keyRe.test(key)) return bad(`line ${shown} has an invalid key ${show(key)}; e.g. ${example}`);
    if (t.includes('\0')) return bad(`line ${shown} contains a NUL character; e.g. ${example}`);
    out.push([key, t.slice(eq + 1)]);
  }
  return ok(out);
}

// --- names and references --------------------------------------------------------------------

export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const APP_RE = /^[a-z0-9][a-z0-9_.-]*$/;

// The distribution/reference grammar (github.com/distribution/reference, regexp.go).
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const REPOSITORY_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const REMOTE_NAME_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/** Docker refuses a repository that looks like an image ID. */
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/**
 * The name is valid as a whole, and split the way Docker splits it (splitDomain): a first component
 * that Docker takes for a registry must be a valid domain (`my_registry.io/app` is not), the rest a
 * lowercase remote name.
 */
function isValidName(name: string): boolean {
  if (name.length > 255 || !REPOSITORY_RE.test(name)) return false;
  const { domain, path } = splitDomain(name);
  return (domain === undefined || DOMAIN_RE.test(domain)) && REMOTE_NAME_RE.test(path);
}
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

export interface Repository {
  /** As given, e.g. `ghcr.io/acme/myapp` or `myapp`. */
  readonly name: string;
  /** Registry domain, when the reference names one. */
  readonly domain?: string;
  /** Last path component: the default app name. */
  readonly basename: string;
}

function splitDomain(name: string): { domain?: string; path: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { path: name };
  const first = name.slice(0, slash);
  // Docker's rule: the first component is a registry when it has a dot, a port, or is localhost.
  if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
    return { domain: first, path: name.slice(slash + 1) };
  }
  return { path: name };
}

/** A repository without tag or digest (`image` input). */
export function parseRepository(raw: string): Result<Repository> {
  const example = 'myapp or ghcr.io/acme/myapp';
  if (raw.length > 255) return bad(`${show(raw)} is longer than 255 characters; e.g. ${example}`);
  const { domain, path } = splitDomain(raw);
  const lastColon = path.lastIndexOf(':');
  if (path.includes('@') || lastColon >= 0) {
    return bad(
      `${show(raw)} has a tag or digest: give the repository only (tags go to 'tags'); e.g. ${example}`,
    );
  }
  if (IDENTIFIER_RE.test(raw)) {
    return bad(
      `${show(raw)} is a 64-character hex string, which Docker refuses as a repository name; e.g. ${example}`,
    );
  }
  if (!isValidName(raw)) {
    return bad(
      `${show(raw)} is not a valid image repository (lowercase letters, digits, . _ - separators, / paths); e.g. ${example}`,
    );
  }
  const basename = path.slice(path.lastIndexOf('/') + 1);
  return ok(domain === undefined ? { name: raw, basename } : { name: raw, domain, basename });
}

/** A full reference `repo[:tag][@digest]` (used for extra tags given as full references). */
export function isImageReference(raw: string): boolean {
  let rest = raw;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (!DIGEST_RE.test(rest.slice(at + 1))) return false;
    rest = rest.slice(0, at);
  }
  const { domain, path } = splitDomain(rest);
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    if (!TAG_RE.test(path.slice(colon + 1))) return false;
    rest = (domain ? domain + '/' : '') + path.slice(0, colon);
  }
  return !IDENTIFIER_RE.test(rest) && isValidName(rest);
}

export const KNOWN_PLATFORMS = [
  'linux/amd64',
  'linux/amd64/v2',
  'linux/amd64/v3',
  'linux/amd64/v4',
  'linux/arm64',
  'linux/arm64/v8',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/arm/v5',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64',
  'linux/mips64le',
  'linux/mips64',
  'linux/loong64',
  'windows/amd64',
  'windows/arm64',
] as const;

/** `auto`, or one or more `os/arch[/variant]` from the known list (comma separated). */
export function parsePlatforms(raw: string): Result<'auto' | readonly string[]> {
  if (raw === 'auto') return ok('auto');
  const list = splitList(raw, true);
  if (list.length === 0) return bad(`${show(raw)} names no platform; e.g. linux/amd64 or auto`);
  for (const p of list) {
    if (!(KNOWN_PLATFORMS as readonly string[]).includes(p)) {
      const shape = /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(p)
        ? 'is not a known platform'
        : 'is not os/arch[/variant]';
      return bad(`${show(p)} ${shape}; e.g. linux/amd64, linux/arm64 or auto`);
    }
  }
  return ok(list);
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A DNS hostname or an IPv4/IPv6 address (brackets allowed around IPv6). */
export function parseHost(raw: string): Result<string> {
  const example = 'deploy.example.com or 203.0.113.10';
  const unbracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (isIP(unbracketed)) return ok(unbracketed);
  if (raw.length > 253 || !raw.split('.').every((l) => HOST_LABEL.test(l)) || /^[0-9.]+$/.test(raw)) {
    return bad(`${show(raw)} is not a hostname or IP address; e.g. ${example}`);
  }
  return ok(raw);
}

/** POSIX-portable user names (useradd's default rule, plus upper case). */
export function parseUsername(raw: string): Result<string> {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(raw)) {
    return bad(`${show(raw)} is not a valid user name (letters, digits, _ . -); e.g. deploy`);
  }
  return ok(raw);
}

/** An absolute path on the host: no NUL, no newline, no `..` component. */
export function parseRemotePath(raw: string, example: string): Result<string> {
  if (/[\0\n\r]/.test(raw)) return bad(`${show(raw)} contains a NUL or newline; e.g. ${example}`);
  if (!raw.startsWith('/')) return bad(`${show(raw)} is not an absolute path; e.g. ${example}`);
  if (raw.split('/').includes('..')) return bad(`${show(raw)} contains a '..' component; e.g. ${example}`);
  return ok(raw);
}

export interface VolumeSpec {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]+$/;

/** `source:target[:ro|rw]` lines; source is an absolute host path or a named volume. */
export function parseVolumes(raw: string): Result<readonly VolumeSpec[]> {
  const example = '/srv/data:/data:ro or appdata:/data';
  const out: VolumeSpec[] = [];
  for (const line of splitList(raw, false)) {
    const parts = line.split(':');
    if (parts.length < 2 || parts.length > 3)
      return bad(`line ${show(line)} is not source:target[:ro]; e.g. ${example}`);
    const [source, target, mode] = parts as [string, string, string | undefined];
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
      return bad(`line ${show(line)} has mode ${show(mode)} (ro or rw); e.g. ${example}`);
    }
    if (source.startsWith('/')) {
      const p = parseRemotePath(source, example);
      if (!p.ok) return bad(`line ${show(line)}: source ${p.problem}`);
    } else if (!VOLUME_NAME.test(source)) {
      return bad(`line ${show(line)}: source is neither an absolute path nor a volume name; e.g. ${example}`);
    }
    const t = parseRemotePath(target, example);
    if (!t.ok) return bad(`line ${show(line)}: target ${t.problem}`);
    if (target.replace(/\/+$/, '') === '')
      return bad(`line ${show(line)}: target cannot be /; e.g. ${example}`);
    const norm = (p: string) => p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
    if (out.some((v) => norm(v.target) === norm(target))) {
      return bad(`line ${show(line)}: target ${show(target)} is mounted twice; e.g. ${example}`);
    }
    out.push({ source, target, readOnly: mode === 'ro' });
  }
  return ok(out);
}

export type RestartPolicy = {
  readonly name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  readonly maxRetries: number;
};

export function parseRestart(raw: string): Result<RestartPolicy> {
  const m = /^(no|always|unless-stopped|on-failure)(?::([0-9]{1,4}))?$/.exec(raw);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) {
    return bad(
      `${show(raw)} is not a restart policy (no, always, unless-stopped, on-failure[:N]); e.g. unless-stopped`,
    );
  }
  return ok({ name: m[1] as RestartPolicy['name'], maxRetries: m[2] ? Number(m[2]) : 0 });
}

// --- host commands ---------------------------------------------------------------------------

/**
 * A host command line (`nginx -t`, `sudo systemctl reload nginx`) parsed into argv with
 * shell-quote. Shell operators, redirections, globs and substitutions are refused: every argument
 * is quoted again when the command runs, so nothing the user wrote is interpreted by a shell.
 * Only the variables in `allowedVars` may be referenced; they are substituted when the command runs.
 */
export function parseCommandLine(
  raw: string,
  allowedVars: readonly string[],
  example: string,
): Result<readonly string[]> {
  if (/[\0\n\r]/.test(raw)) return bad(`${show(raw)} contains a NUL or newline; e.g. ${example}`);
  // Checked on the raw text: shell-quote reads `$(id)` as the variable "" followed by a subshell.
  if (raw.includes('`') || raw.includes('$('))
    return bad(`${show(raw)} uses command substitution; e.g. ${example}`);
  const unknown: string[] = [];
  const parsed = shellQuote.parse(raw, (key: string) => {
    if (!allowedVars.includes(key)) unknown.push(key);
    return '${' + key + '}';
  });
  if (unknown.length > 0) {
    const allowed = allowedVars.length
      ? `only ${allowedVars.map((v) => '$' + v).join(', ')} may be used`
      : 'no variables may be used';
    return bad(`${show(raw)} uses $${unknown[0]}: ${allowed}; e.g. ${example}`);
  }
  const argv: string[] = [];
  for (const token of parsed) {
    if (typeof token !== 'string') {
      if ('op' in token && token.op === 'glob') {
        return bad(
          `${show(raw)} uses the glob ${show(token.pattern)}: give literal arguments; e.g. ${example}`,
        );
      }
      const op = 'op' in token ? token.op : 'comment' in token ? '#' : '?';
      return bad(
        `${show(raw)} uses the shell operator ${show(String(op))}: give one command with arguments (wrap pipelines in a script on the host); e.g. ${example}`,
      );
    }
    if (/[`]/.test(token) || token.includes('$(')) {
      return bad(`${show(raw)} uses command substitution; e.g. ${example}`);
    }
    argv.push(token);
  }
  if (argv.length === 0) return bad(`${show(raw)} is empty; e.g. ${example}`);
  return ok(argv);
}

// --- SSH material ----------------------------------------------------------------------------

export const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

export function parseFingerprint(raw: string): Result<string> {
  if (!FINGERPRINT_RE.test(raw)) {
    return bad(
      `${show(raw)} is not a SHA256 fingerprint (SHA256: and 43 base64 characters, as 'ssh-keygen -lf' prints); e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8`,
    );
  }
  return ok(raw.replace(/=$/, ''));
}
