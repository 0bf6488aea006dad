// What a command does, as far as image size and the build cache care: installs dependencies,
// compiles, installs build tooling, cleans package caches. One predicate per question so each
// rule reads as a sentence. Nothing here does I/O.
import { subcommand, type Command } from './shell.js';

const APT = new Set(['apt-get', 'apt', 'aptitude']);
const APT_VALUED = ['-o', '-c', '-t', '--option', '--config-file', '--target-release'];
const APT_USES_LISTS = new Set([
  'install',
  'reinstall',
  'upgrade',
  'dist-upgrade',
  'full-upgrade',
  'build-dep',
]);
const PIP = new Set(['pip', 'pip3']);
// Packages that are compilers and headers: the image needs them only to build.
const BUILD_PACKAGES = new Set([
  'build-essential',
  'build-base',
  'gcc',
  'g++',
  'gcc-c++',
  'make',
  'cmake',
  'clang',
  'musl-dev',
  'libc6-dev',
  'python3-dev',
  'python-dev',
]);

const tool = (c: Command) => c.argv[0] ?? '';
const has = (c: Command, ...words: string[]) => c.argv.some((a) => words.includes(a));
/** `python -m pip install` is `pip install`. */
function pipView(c: Command): Command {
  if (/^python[0-9.]*$/.test(tool(c)) && c.argv[1] === '-m' && c.argv[2] === 'pip') {
    return { ...c, argv: ['pip', ...c.argv.slice(3)] };
  }
  return c;
}

export const isAptUpdate = (c: Command) => APT.has(tool(c)) && subcommand(c, APT_VALUED) === 'update';
export const isAptInstall = (c: Command) => APT.has(tool(c)) && subcommand(c, APT_VALUED) === 'install';
/** install/upgrade: the commands that read the package lists an `apt-get update` fetched. */
export const aptUsesLists = (c: Command) =>
  APT.has(tool(c)) && APT_USES_LISTS.has(subcommand(c, APT_VALUED) ?? '');
export const isApkAdd = (c: Command) => tool(c) === 'apk' && subcommand(c) === 'add';
export const removesAptLists = (c: Command) =>
  tool(c) === 'rm' && c.argv.some((a) => /^\/var\/lib\/apt\/lists(\/\*?)?$/.test(a));
export const removesApkCache = (c: Command) =>
  tool(c) === 'rm' && c.argv.some((a) => /^\/var\/cache\/apk(\/\*?)?$/.test(a));
/** `apk del` / `apt-get purge|remove`: build packages removed again in the same layer. */
export const removesPackages = (c: Command) =>
  (tool(c) === 'apk' && subcommand(c) === 'del') ||
  (APT.has(tool(c)) && ['purge', 'remove', 'autoremove'].includes(subcommand(c, APT_VALUED) ?? ''));

/** The packages a system package manager installs (non-option words after the subcommand). */
function systemPackages(c: Command): string[] {
  const words = c.argv
    .slice(1)
    .filter((w, i, all) => !w.startsWith('-') && !APT_VALUED.includes(all[i - 1] ?? ''));
  return words.slice(1).map((w) => w.replace(/=.*$/, ''));
}

/** npm/yarn/pnpm's own install commands; `-g` installs a tool, not the project's dependencies. */
function nodeInstall(c: Command): 'npm' | 'yarn' | 'pnpm' | undefined {
  if (has(c, '-g', '--global') || c.argv[1] === 'global') return undefined;
  const sub = subcommand(c);
  if (tool(c) === 'npm' && ['ci', 'clean-install', 'install', 'i', 'add'].includes(sub ?? '')) return 'npm';
  if (tool(c) === 'yarn' && (sub === undefined || sub === 'install' || sub === 'add')) return 'yarn';
  if (tool(c) === 'pnpm' && ['install', 'i', 'add'].includes(sub ?? '')) return 'pnpm';
  return undefined;
}

export type Ecosystem = 'npm' | 'yarn' | 'pnpm' | 'pip' | 'apt' | 'apk' | 'go' | 'bundler' | 'composer';

/**
 * The dependency install a command is, if any: the step a broad `COPY . .` should not precede.
 * `pip install .` / `-e .` installs the project itself and needs the sources, so it is not one.
 */
export function dependencyInstall(cmd: Command): Ecosystem | undefined {
  const c = pipView(cmd);
  const sub = subcommand(c);
  const node = nodeInstall(c);
  if (node) return node;
  if (PIP.has(tool(c)) && sub === 'install') {
    const targets = c.argv.slice(2).filter((w) => !w.startsWith('-'));
    const local = targets.some((w) => w === '.' || w.startsWith('./') || w.startsWith('/'));
    return has(c, '-r', '--requirement') || (targets.length > 0 && !local) ? 'pip' : undefined;
  }
  if (isAptInstall(c)) return 'apt';
  if (isApkAdd(c)) return 'apk';
  if (tool(c) === 'go' && sub === 'mod' && c.argv.includes('download')) return 'go';
  if (tool(c) === 'bundle' && (sub === 'install' || sub === undefined)) return 'bundler';
  if (tool(c) === 'composer' && sub === 'install') return 'composer';
  return undefined;
}

/** A build of the project: `npm run build`, `go build`, `mvn package`, `make`... */
export function isCompile(c: Command): boolean {
  const sub = subcommand(c);
  const script = sub === 'run' || sub === 'run-script' ? c.argv[c.argv.indexOf(sub) + 1] : sub;
  switch (tool(c)) {
    case 'npm':
      return (sub === 'run' || sub === 'run-script') && /^build/.test(script ?? '');
    case 'yarn':
    case 'pnpm':
      return /^build/.test(script ?? '');
    case 'go':
      return sub === 'build' || sub === 'install';
    case 'cargo':
      return sub === 'build' || sub === 'install';
    case 'mvn':
    case 'mvnw':
      return c.argv.some((a) => ['package', 'install', 'verify', 'deploy'].includes(a));
    case 'gradle':
    case 'gradlew':
      return c.argv.some((a) => /^(build|assemble|bootJar|jar|shadowJar|installDist)$/.test(a));
    case 'make':
      return true;
    default:
      return false;
  }
}

/**
 * A step that takes long and is worth caching: a dependency install or a compile (any yarn,
 * pnpm, mvn, gradle or cargo run counts; `--version` does not).
 */
export function isExpensive(cmd: Command): boolean {
  const c = pipView(cmd);
  if (has(c, '--version', '-v', '-V') && c.argv.length === 2) return false;
  if (['yarn', 'pnpm', 'mvn', 'mvnw', 'gradle', 'gradlew', 'cargo'].includes(tool(c))) return true;
  if (PIP.has(tool(c)) && subcommand(c) === 'install') return true;
  if (['yum', 'dnf', 'microdnf'].includes(tool(c)) && subcommand(c) === 'install') return true;
  if (tool(c) === 'go' && subcommand(c) === 'mod' && c.argv.includes('download')) return true;
  return dependencyInstall(c) !== undefined || aptUsesLists(c) || isCompile(c);
}

/**
 * Build tooling a runtime image should not carry: compilers/headers from the system package
 * manager (`system`), or the dev dependencies of a node install (npm, yarn and pnpm skip them
 * when NODE_ENV=production, given as `nodeEnv`). `what` names them for the message.
 */
export function buildTooling(
  c: Command,
  nodeEnv: string | null | undefined,
): { what: string; system: boolean } | undefined {
  if (isAptInstall(c) || isApkAdd(c) || (['yum', 'dnf'].includes(tool(c)) && subcommand(c) === 'install')) {
    const tools = systemPackages(c).filter((p) => BUILD_PACKAGES.has(p));
    return tools.length > 0 ? { what: tools.join(', '), system: true } : undefined;
  }
  const node = nodeInstall(c);
  if (!node) return undefined;
  const production = (c.env['NODE_ENV'] ?? nodeEnv) === 'production';
  const omitDev =
    has(c, '--omit=dev', '--production', '--only=prod', '--only=production', '--prod', '-P') ||
    c.argv.some((a, i) => a === '--omit' && c.argv[i + 1] === 'dev');
  if (omitDev || production) return undefined;
  return { what: `dev dependencies (${c.argv.join(' ')})`, system: false };
}
