// adviseStep on real workspaces made in the test: a real Config from parseConfig, recorders for
// the log, outputs and state, and a real Summary. What is checked is what a user sees: the
// annotations (file, lines, message), the `lint-findings` output, the summary and the failure.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnnotationProperties } from '@actions/core';
import { adviseStep } from '../../src/advise/step.js';
import { parseConfig, type InputName } from '../../src/config/parse.js';
import type { GithubContext } from '../../src/config/schema.js';
import type { OutputName, Outputs, RunContext, StateStore } from '../../src/context.js';
import type { Logger } from '../../src/log.js';
import { Summary } from '../../src/report/summary.js';

type Inputs = Partial<Record<InputName, string>>;
interface Annotation {
  message: string;
  props: AnnotationProperties | undefined;
}

const FIXTURES = new URL('../fixtures/advise/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`${name}.Dockerfile`, FIXTURES), 'utf8');

let workspace: string;
beforeEach(() => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'advise-step-'));
});
afterEach(() => rmSync(workspace, { recursive: true, force: true }));

/** Files under the workspace: a string is the content, a number a file of that many bytes. */
function tree(files: Record<string, string | number>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(workspace, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'number' ? Buffer.alloc(content) : content);
  }
}

function recorder() {
  const warnings: Annotation[] = [];
  const errors: Annotation[] = [];
  const infos: string[] = [];
  const debugs: string[] = [];
  const log: Logger = {
    info: (m) => void infos.push(m),
    warning: (message, props) => void warnings.push({ message, props }),
    error: (message, props) => void errors.push({ message, props }),
    debug: (m) => void debugs.push(m),
    group: (_t, fn) => fn(),
  };
  const values = new Map<OutputName, string>();
  const outputs: Outputs = { set: (n, v) => void values.set(n, String(v)), get: (n) => values.get(n) };
  const saved = new Map<string, string>();
  const state: StateStore = { save: (n, v) => void saved.set(n, v) };
  return { log, outputs, state, warnings, errors, infos, debugs, values, saved };
}

/** Runs adviseStep as the pipeline would; returns what it recorded (and what it threw). */
async function advise(inputs: Inputs) {
  const github: GithubContext = {
    sha: '0123456789abcdef0123456789abcdef01234567',
    serverUrl: 'https://github.com',
    workspace,
    runnerTemp: path.join(workspace, '..'),
  };
  const parsed = parseConfig((n) => ({ image: 'demo', ...inputs })[n] ?? '', github, new Date());
  if (!parsed.ok) throw new Error(`expected a config, got:\n${parsed.errors.join('\n')}`);
  const rec = recorder();
  const summary = new Summary();
  const ctx: RunContext = {
    config: parsed.config,
    log: rec.log,
    outputs: rec.outputs,
    state: rec.state,
    summary,
  };
  let thrown: unknown;
  await adviseStep.run(ctx).catch((e: unknown) => (thrown = e));
  return { ...rec, summary: summary.render(), thrown, config: parsed.config };
}

const IGNORE = 'node_modules\n.git\n.env\n';

test('the step is named advise', () => {
  expect(adviseStep.name).toBe('advise');
});

test('one finding → one warning on the Dockerfile at its line, `title — fix`, and the count output', async () => {
  tree({
    'app/Dockerfile': fixture('base-latest'),
    'app/.dockerignore': IGNORE,
    'app/site/index.html': 'hi',
  });
  const r = await advise({ context: 'app' });
  expect(r.thrown).toBeUndefined();
  expect(r.errors).toEqual([]);
  expect(r.warnings).toHaveLength(1);
  const [w] = r.warnings;
  expect(w?.props).toEqual({
    file: 'app/Dockerfile',
    startLine: 2,
    endLine: 2,
    title: 'Dockerfile advice: base-latest',
  });
  expect(w?.message).toMatch(
    /^FROM nginx has no tag \(so :latest\): .+ — Pin a version tag \(e\.g\. nginx:<version>\)/,
  );
  expect(w?.message).not.toMatch(/\n/);
  expect(r.values.get('lint-findings')).toBe('1');
  expect([...r.values.keys()]).toEqual(['lint-findings']);
  expect(r.saved.size).toBe(0);
});

test('a multi-line finding spans its lines; file-level context findings carry no line', async () => {
  tree({ Dockerfile: fixture('apt-lists-not-removed'), 'node_modules/a/index.js': 5000 });
  const r = await advise({});
  expect(r.warnings.map((w) => w.props)).toEqual([
    { file: 'Dockerfile', startLine: 2, endLine: 3, title: 'Dockerfile advice: apt-lists-not-removed' },
    { file: 'Dockerfile', title: 'Dockerfile advice: no-dockerignore' },
    { file: 'Dockerfile', title: 'Dockerfile advice: context-includes' },
  ]);
  expect(r.warnings[1]?.message).toMatch(
    /^No \.dockerignore: .+ — Add a \.dockerignore listing at least node_modules/,
  );
  expect(r.warnings[2]?.message).toMatch(
    /^node_modules \(4\.9 KB\) is in the build context: .+ — Add `\*\*\/node_modules` to \.dockerignore$/,
  );
  for (const w of r.warnings) expect(w.message).not.toMatch(/[\r\n]/);
  expect(r.values.get('lint-findings')).toBe('3');
});

test('with a .dockerignore that misses .env, the context finding goes on the ignore file', async () => {
  tree({ Dockerfile: fixture('clean-multistage'), '.dockerignore': 'node_modules\n', '.env': 'A=1\n' });
  const r = await advise({});
  expect(r.warnings).toEqual([
    {
      message: expect.stringMatching(
        /^\.env \(4 B\) is in the build context: secrets .+ — Add `\.env` to \.dockerignore$/,
      ),
      props: { file: '.dockerignore', title: 'Dockerfile advice: context-includes' },
    },
  ]);
});

test("a Dockerfile away from the context: annotations name it relative to the workspace (input 'file')", async () => {
  tree({ 'docker/app.Dockerfile': fixture('apk-no-cache'), '.dockerignore': IGNORE, 'src/a.js': 1 });
  const r = await advise({ file: 'docker/app.Dockerfile' });
  expect(r.warnings.map((w) => [w.props?.file, w.props?.startLine, w.props?.title])).toEqual([
    ['docker/app.Dockerfile', 2, 'Dockerfile advice: apk-no-cache'],
  ]);
});

test('findings come in line order, Dockerfile first, and each is one annotation', async () => {
  tree({ Dockerfile: 'FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n', '.dockerignore': IGNORE });
  const r = await advise({});
  const lines = r.warnings.map((w) => w.props?.startLine);
  expect(lines).toEqual([...lines].sort((a, b) => (a ?? 0) - (b ?? 0)));
  expect(r.warnings.map((w) => w.props?.title)).toEqual([
    'Dockerfile advice: base-latest',
    'Dockerfile advice: no-user',
    'Dockerfile advice: copy-all-before-install',
  ]);
  expect(r.values.get('lint-findings')).toBe('3');
});

test('the summary section: a table of line, rule, finding and fix, the context size and its largest entries', async () => {
  tree({
    Dockerfile: fixture('apt-lists-not-removed'),
    '.dockerignore': '.git\n',
    'vendor/big.bin': 4000,
    'src/a.js': 3000,
    'src/b.js': 2500,
    'assets/logo.png': 2000,
    'README.md': 900,
    'tiny.txt': 10,
  });
  const r = await advise({});
  const md = r.summary;
  expect(md).toContain('### Dockerfile advice');
  expect(md).toContain('| line | rule | finding | fix |');
  expect(md).toMatch(/\| 2–3 \| apt-lists-not-removed \| [^|\n]+ \| [^|\n]+ \|/);
  // the Dockerfile and the .dockerignore ('.git\n', 5 B) are sent too
  const dockerfile = Buffer.byteLength(fixture('apt-lists-not-removed'));
  const bytes = 4000 + 3000 + 2500 + 2000 + 900 + 10 + dockerfile + 5;
  expect(md).toContain(
    `Build context: **${(bytes / 1000).toFixed(1)} KB** in 8 file(s) (after \`.dockerignore\`).`,
  );
  expect(md).toContain(
    [
      '| largest entries | size |',
      '| --- | --- |',
      '| src/ | 5.50 KB |',
      '| vendor/ | 4.00 KB |',
      '| assets/ | 2.00 KB |',
      '| README.md | 900 B |',
      `| Dockerfile | ${dockerfile} B |`,
    ].join('\n'),
  );
  expect(md).not.toContain('tiny.txt');
});

test('no findings: "No findings" in the summary, output 0, nothing annotated', async () => {
  tree({ Dockerfile: fixture('clean-multistage'), '.dockerignore': IGNORE });
  const r = await advise({ lint: 'error' });
  expect(r.thrown).toBeUndefined();
  expect(r.warnings).toEqual([]);
  expect(r.errors).toEqual([]);
  expect(r.values.get('lint-findings')).toBe('0');
  expect(r.summary).toContain('No findings in `Dockerfile`.');
  expect(r.summary).not.toContain('| line | rule |');
});

test('lint: error — the findings are error annotations and the step throws one line with the count', async () => {
  tree({ Dockerfile: fixture('apt-lists-not-removed'), 'src/a.js': 1 });
  const r = await advise({ lint: 'error' });
  expect(r.warnings).toEqual([]);
  expect(r.errors.map((e) => e.props?.title)).toEqual([
    'Dockerfile advice: apt-lists-not-removed',
    'Dockerfile advice: no-dockerignore',
  ]);
  expect(r.errors[0]?.props).toMatchObject({ file: 'Dockerfile', startLine: 2, endLine: 3 });
  expect(r.thrown).toBeInstanceOf(Error);
  const msg = (r.thrown as Error).message;
  expect(msg).toBe(
    '2 Dockerfile finding(s) with lint: error (see the annotations); fix them or set lint: warn',
  );
  expect(msg).not.toMatch(/\n/);
  // everything was reported before the failure
  expect(r.values.get('lint-findings')).toBe('2');
  expect(r.summary).toContain('### Dockerfile advice');
});

test('lint: off — nothing at all: no annotations, no output, no summary section', async () => {
  tree({ Dockerfile: fixture('apt-lists-not-removed') });
  const r = await advise({ lint: 'off' });
  expect(r.thrown).toBeUndefined();
  expect(r.warnings).toEqual([]);
  expect(r.errors).toEqual([]);
  expect(r.infos).toEqual([]);
  expect(r.values.size).toBe(0);
  expect(r.summary).not.toContain('Dockerfile advice');
});

test.each(['rollback', 'cleanup'])('command %s builds nothing, so there is no advice', async (command) => {
  tree({ Dockerfile: fixture('apt-lists-not-removed') });
  const r = await advise({ command });
  expect(r.config.command).toBe(command);
  expect(r.warnings).toEqual([]);
  expect(r.values.size).toBe(0);
  expect(r.summary).not.toContain('Dockerfile advice');
});

test('command build and dry-run: the advice runs (it needs no build)', async () => {
  tree({ Dockerfile: fixture('base-latest'), '.dockerignore': IGNORE });
  const r = await advise({ command: 'build', 'dry-run': 'true' });
  expect(r.config.dryRun).toBe(true);
  expect(r.warnings.map((w) => w.props?.title)).toEqual(['Dockerfile advice: base-latest']);
  expect(r.values.get('lint-findings')).toBe('1');
});

test('no Dockerfile: nothing (the build step reports it), even with lint: error', async () => {
  tree({ 'src/a.js': 1 });
  const r = await advise({ lint: 'error' });
  expect(r.thrown).toBeUndefined();
  expect(r.warnings).toEqual([]);
  expect(r.errors).toEqual([]);
  expect(r.values.size).toBe(0);
  expect(r.summary).not.toContain('Dockerfile advice');
});

test("a 'file' that is a directory is no Dockerfile either", async () => {
  tree({ 'docker/x': 'x' });
  const r = await advise({ file: 'docker' });
  expect(r.thrown).toBeUndefined();
  expect(r.values.size).toBe(0);
});

test("an unknown 'target' stage: nothing (the build step names the stages)", async () => {
  tree({ Dockerfile: fixture('no-user') });
  const r = await advise({ target: 'nope', lint: 'error' });
  expect(r.thrown).toBeUndefined();
  expect(r.warnings).toEqual([]);
  expect(r.values.size).toBe(0);
});

test("'target' picks the final stage the rules look at", async () => {
  // no-user.Dockerfile: the last stage runs as root (line 8); the build stage has no USER either
  tree({ Dockerfile: fixture('no-user'), '.dockerignore': IGNORE });
  const last = await advise({});
  expect(last.warnings.map((w) => [w.props?.title, w.props?.startLine])).toEqual([
    ['Dockerfile advice: no-user', 8],
  ]);
  const build = await advise({ target: 'build' });
  expect(build.warnings.map((w) => [w.props?.title, w.props?.startLine])).toEqual([
    ['Dockerfile advice: no-user', 1],
  ]);
});

test('the build-tag-arg input reaches the cache-bust rule', async () => {
  const text = fixture('cache-bust-early');
  tree({ Dockerfile: text.replace(/BUILD_TAG/g, 'REV'), '.dockerignore': IGNORE });
  const named = await advise({ 'build-tag-arg': 'REV' });
  expect(named.warnings.map((w) => w.props?.title)).toEqual(['Dockerfile advice: cache-bust-early']);
  expect(named.warnings[0]?.message).toContain('Move `ARG REV`');
  const other = await advise({});
  expect(other.warnings).toEqual([]);
});
