// checkContext on real directories made in the test: what docker would send, after .dockerignore.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkContext } from '../../src/advise/context.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'advise-context-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Creates files of the given sizes (bytes) under dir. */
function tree(files: Record<string, number | string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'number' ? Buffer.alloc(content) : content);
  }
}
const rules = (r: { findings: Array<{ rule: string; line: number }> }) =>
  r.findings.map((f) => [f.rule, f.line]);
const dockerfile = () => path.join(dir, 'Dockerfile');

const APP = {
  Dockerfile: 'FROM node:20-alpine\n', // 20 bytes
  'package.json': 100,
  'src/index.js': 1000,
  'src/lib/util.js': 500,
  'node_modules/a/index.js': 5000,
  'node_modules/a/node_modules/b/index.js': 3000,
  '.git/objects/pack/big.pack': 8000,
  '.env': 30,
};

test('no .dockerignore: everything is sent and each of node_modules, .git, .env is named', async () => {
  tree(APP);
  const r = await checkContext(dir, dockerfile());
  expect(r.bytes).toBe(20 + 100 + 1000 + 500 + 5000 + 3000 + 8000 + 30);
  expect(r.files).toBe(8);
  expect(r.ignoreFile).toBeUndefined();
  expect(rules(r).sort()).toEqual([
    ['context-includes', 0],
    ['context-includes', 0],
    ['context-includes', 0],
    ['no-dockerignore', 0],
  ]);
  const titles = r.findings.map((f) => f.title).join('\n');
  // The top-most node_modules is the one named, with everything under it.
  expect(titles).toMatch(/^node_modules \(7\.8 KB\) is in the build context/m);
  expect(titles).toMatch(/^\.git \(7\.8 KB\)/m);
  expect(titles).toMatch(/^\.env \(30 B\).*secrets/m);
  expect(titles).toContain('No .dockerignore: the whole directory (17.2 KB in 8 files)');
});

test('largest: the five biggest top-level entries, directories summed', async () => {
  tree({ ...APP, 'a.bin': 2000, 'b.bin': 1 });
  const r = await checkContext(dir, dockerfile());
  expect(r.largest).toEqual([
    // Equal sizes sort by name.
    { path: '.git', bytes: 8000, kind: 'dir' },
    { path: 'node_modules', bytes: 8000, kind: 'dir' },
    { path: 'a.bin', bytes: 2000, kind: 'file' },
    { path: 'src', bytes: 1500, kind: 'dir' },
    { path: 'package.json', bytes: 100, kind: 'file' },
  ]);
});

test('a .dockerignore that excludes them: no findings, and the size is what is sent', async () => {
  const ignore = 'node_modules\n.git\n# secrets\n.env\n*.log\n';
  tree({ ...APP, '.dockerignore': ignore, 'debug.log': 700 });
  const r = await checkContext(dir, dockerfile());
  expect(r.findings).toEqual([]);
  expect(r.ignoreFile).toBe('.dockerignore');
  expect(r.bytes).toBe(20 + 100 + 1000 + 500 + ignore.length);
  expect(r.files).toBe(5);
  expect(r.largest.map((e) => e.path)).toEqual(['src', 'package.json', '.dockerignore', 'Dockerfile']);
});

test('docker semantics: a bare name matches at the root only; ** matches at any depth', async () => {
  tree({ ...APP, 'packages/web/node_modules/x.js': 50, '.dockerignore': 'node_modules\n.git\n.env\n' });
  const r = await checkContext(dir, dockerfile());
  expect(r.findings.map((f) => f.title)).toEqual([
    expect.stringMatching(/^packages\/web\/node_modules \(50 B\)/),
  ]);
  expect(r.findings[0]?.fix).toBe('Add `**/node_modules` to .dockerignore');
  writeFileSync(path.join(dir, '.dockerignore'), '**/node_modules\n.git\n.env\n');
  expect((await checkContext(dir, dockerfile())).findings).toEqual([]);
});

test('a ! exception re-includes a file inside an excluded directory', async () => {
  const ignore = 'node_modules\n!node_modules/a/index.js\n.git\n.env\n';
  tree({ ...APP, '.dockerignore': ignore });
  const r = await checkContext(dir, dockerfile());
  expect(rules(r)).toEqual([['context-includes', 0]]);
  expect(r.findings[0]?.title).toMatch(/^node_modules \(4\.9 KB\)/);
  expect(r.bytes).toBe(20 + 100 + 1000 + 500 + 5000 + ignore.length);
});

test('matching is case-sensitive, as docker on Linux', async () => {
  tree({ Dockerfile: 'x', '.dockerignore': 'SECRET.txt\n', 'secret.txt': 10 });
  expect((await checkContext(dir, dockerfile())).bytes).toBe(1 + 11 + 10);
});

test("the Dockerfile's own <name>.dockerignore wins over the context's", async () => {
  tree({
    ...APP,
    '.dockerignore': 'nothing-matches\n',
    'docker/app.Dockerfile': 'FROM node:20-alpine\n',
    'docker/app.Dockerfile.dockerignore': 'node_modules\n.git\n.env\n',
  });
  const r = await checkContext(dir, path.join(dir, 'docker/app.Dockerfile'));
  expect(r.ignoreFile).toBe('docker/app.Dockerfile.dockerignore');
  expect(r.findings).toEqual([]);
});

test('a symlink is sent as a link, not as its target', async () => {
  tree({ Dockerfile: 'x', '.dockerignore': '', 'big.bin': 100000 });
  symlinkSync(path.join(dir, 'big.bin'), path.join(dir, 'link'));
  const r = await checkContext(dir, dockerfile());
  expect(r.files).toBe(4);
  expect(r.bytes).toBeLessThan(100000 + 1000);
  expect(r.findings).toEqual([]);
});
