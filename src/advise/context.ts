// Build-context checks: how much `docker build` would send (after .dockerignore) and whether
// node_modules, .git or .env go along. The one advisor module that reads the filesystem.
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import type { Finding } from './finding.js';

export interface ContextEntry {
  /** A top-level entry of the context: a file, or a directory with everything sent under it. */
  path: string;
  bytes: number;
  kind: 'file' | 'dir';
}

export interface ContextReport {
  /** Bytes of the files docker would send (file contents; tar headers not counted). */
  bytes: number;
  files: number;
  /** The five largest top-level entries, largest first. */
  largest: ContextEntry[];
  findings: Finding[];
  /** The ignore file that applied, relative to the context (undefined: none). */
  ignoreFile?: string;
}

// What each of these costs when it is sent, for the finding's title.
const WATCHED: Record<string, string> = {
  node_modules: 'host-built modules are sent on every build and `COPY . .` puts them in the image',
  '.git': 'the whole history is sent on every build and every commit busts the cache of `COPY . .`',
  '.env': 'secrets end up in the daemon and, through `COPY . .`, in an image layer',
};

/**
 * Walks `contextDir` as docker would tar it. `dockerfilePath` matters for BuildKit's
 * Dockerfile-specific ignore file (`<Dockerfile>.dockerignore` next to it), which wins over the
 * context's `.dockerignore`. Relative paths are taken from the working directory.
 */
export async function checkContext(contextDir: string, dockerfilePath: string): Promise<ContextReport> {
  const root = path.resolve(contextDir);
  const ignoreFile = await findIgnoreFile(root, path.resolve(dockerfilePath));
  const patterns = ignoreFile ? (await readFile(ignoreFile, 'utf8')).split(/\r?\n/) : [];
  // Docker matches case-sensitively (the library defaults to ignoring case).
  const ig = dockerignore.default({ ignorecase: false }).add(patterns);
  // Without `!` patterns nothing under an excluded directory can come back: skip it unread.
  const reincludes = patterns.some((p) => p.trim().startsWith('!'));

  const top = new Map<string, ContextEntry>();
  const watched = new Map<string, Map<string, number>>();
  let bytes = 0;
  let files = 0;

  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const excluded = ig.ignores(r);
      if (e.isDirectory()) {
        if (!excluded || reincludes) await walk(r);
        continue;
      }
      if (excluded || !(e.isFile() || e.isSymbolicLink())) continue;
      // lstat: a symlink is sent as a link, not as what it points to.
      const size = (await lstat(path.join(root, r))).size;
      bytes += size;
      files++;
      const head = r.split('/')[0] as string;
      const entry = top.get(head) ?? { path: head, bytes: 0, kind: head === r ? 'file' : 'dir' };
      entry.bytes += size;
      top.set(head, entry);
      // The top-most node_modules/.git/.env on the file's path is the one to report.
      const parts = r.split('/');
      const at = parts.findIndex((p) => Object.hasOwn(WATCHED, p));
      if (at >= 0) {
        const name = parts[at] as string;
        const prefix = parts.slice(0, at + 1).join('/');
        const byPath = watched.get(name) ?? new Map<string, number>();
        byPath.set(prefix, (byPath.get(prefix) ?? 0) + size);
        watched.set(name, byPath);
      }
    }
  };
  await walk('');

  const findings: Finding[] = [];
  if (!ignoreFile) {
    findings.push({
      rule: 'no-dockerignore',
      line: 0,
      title: `No .dockerignore: the whole directory (${mb(bytes)} in ${files} files) is sent to the daemon on every build`,
      fix: 'Add a .dockerignore listing at least node_modules, .git, .env, logs and build output',
      severity: 'warning',
    });
  }
  for (const [name, byPath] of watched) {
    const paths = [...byPath.keys()];
    const size = [...byPath.values()].reduce((a, b) => a + b, 0);
    const shown = paths.slice(0, 3).join(', ') + (paths.length > 3 ? `, +${paths.length - 3} more` : '');
    findings.push({
      rule: 'context-includes',
      line: 0,
      title: `${shown} (${mb(size)}) is in the build context: ${WATCHED[name]}`,
      fix: `Add \`${name === 'node_modules' ? '**/node_modules' : name}\` to ${ignoreFile ? path.relative(root, ignoreFile) || '.dockerignore' : '.dockerignore'}`,
      severity: 'warning',
    });
  }

  const largest = [...top.values()]
    .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path))
    .slice(0, 5);
  return {
    bytes,
    files,
    largest,
    findings,
    ...(ignoreFile ? { ignoreFile: path.relative(root, ignoreFile) } : {}),
  };
}

async function findIgnoreFile(root: string, dockerfile: string): Promise<string | undefined> {
  for (const candidate of [`${dockerfile}.dockerignore`, path.join(root, '.dockerignore')]) {
    try {
      if ((await lstat(candidate)).isFile()) return candidate;
    } catch {
      // absent: try the next one
    }
  }
  return undefined;
}

function mb(n: number): string {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}
