// How a RUN's script becomes commands, and what the advisor decides each command is.
import { buildTooling, dependencyInstall, isCompile, isExpensive } from '../../src/advise/commands.js';
import { scriptCommands } from '../../src/advise/shell.js';

const argv = (script: string) => scriptCommands(script).map((c) => c.argv);
const one = (script: string) => {
  const [c] = scriptCommands(script);
  if (!c) throw new Error(`no command in ${script}`);
  return c;
};

test('operators, newlines and comments end commands; quotes and globs are arguments', () => {
  expect(argv('a && b || c; d | e\nf # g h')).toEqual([['a'], ['b'], ['c'], ['d'], ['e'], ['f']]);
  expect(argv('echo "Build ID: $BUILD_TAG" > /build_info.txt; make')).toEqual([
    ['echo', 'Build ID: $BUILD_TAG'],
    ['make'],
  ]);
  expect(argv('npm ci 2>&1 < /dev/null')).toEqual([['npm', 'ci', '2']]);
  expect(argv('rm -rf /var/lib/apt/lists/*')).toEqual([['rm', '-rf', '/var/lib/apt/lists/*']]);
  expect(argv('set -eux; \\\n  apk add x')).toEqual([
    ['set', '-eux'],
    ['apk', 'add', 'x'],
  ]);
});

test('assignments, wrappers and paths are stripped; sh -c is unwrapped', () => {
  expect(scriptCommands('NODE_ENV=production sudo -E -H /usr/local/bin/npm ci')).toEqual([
    { argv: ['npm', 'ci'], env: { NODE_ENV: 'production' } },
  ]);
  expect(argv(`bash -c 'apt-get update && apt-get install -y curl'`)).toEqual([
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', 'curl'],
  ]);
});

test('dependency installs, by ecosystem', () => {
  const cases: Array<[string, string | undefined]> = [
    ['npm ci', 'npm'],
    ['npm i', 'npm'],
    ['npm install -g pnpm', undefined],
    ['yarn', 'yarn'],
    ['yarn --frozen-lockfile', 'yarn'],
    ['yarn build', undefined],
    ['pnpm install --frozen-lockfile', 'pnpm'],
    ['pip install -r requirements.txt', 'pip'],
    ['python3 -m pip install flask', 'pip'],
    ['pip install -e .', undefined],
    ['apt-get -y install curl', 'apt'],
    ['apk add --no-cache curl', 'apk'],
    ['go mod download', 'go'],
    ['go build ./...', undefined],
    ['bundle install', 'bundler'],
    ['composer install --no-dev', 'composer'],
  ];
  for (const [script, eco] of cases) expect([script, dependencyInstall(one(script))]).toEqual([script, eco]);
});

test('compiles and expensive steps', () => {
  for (const s of [
    'npm run build',
    'yarn build',
    'pnpm run build:prod',
    'go build',
    'cargo build',
    'mvn package',
    'make',
  ]) {
    expect([s, isCompile(one(s))]).toEqual([s, true]);
  }
  for (const s of ['npm run start', 'yarn test', 'go vet', 'mvn -v', 'echo make']) {
    expect([s, isCompile(one(s))]).toEqual([s, false]);
  }
  expect(isExpensive(one('yarn --version'))).toBe(false);
  expect(isExpensive(one('dnf install -y gcc'))).toBe(true);
  expect(isExpensive(one('apt-get upgrade -y'))).toBe(true);
  expect(isExpensive(one('echo npm ci'))).toBe(false);
});

test('build tooling: compilers and dev dependencies, unless production', () => {
  expect(
    buildTooling(one('apt-get install -y --no-install-recommends gcc=4:12.2.0-3 curl'), undefined),
  ).toEqual({
    what: 'gcc',
    system: true,
  });
  expect(buildTooling(one('apt-get install -y curl'), undefined)).toBeUndefined();
  expect(buildTooling(one('npm ci'), undefined)?.system).toBe(false);
  expect(buildTooling(one('npm ci'), 'production')).toBeUndefined();
  expect(buildTooling(one('NODE_ENV=production npm ci'), undefined)).toBeUndefined();
  expect(buildTooling(one('npm ci --omit dev'), undefined)).toBeUndefined();
  expect(buildTooling(one('pnpm install --prod'), undefined)).toBeUndefined();
});
