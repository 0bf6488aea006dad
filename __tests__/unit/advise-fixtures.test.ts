// One fixture per rule: each triggers exactly its own finding, at the line it names; the clean
// multi-stage Node app triggers none.
import { readFileSync } from 'node:fs';
import { adviseDockerfile } from '../../src/advise/rules.js';

const FIXTURES = new URL('../fixtures/advise/', import.meta.url);
const read = (name: string) => readFileSync(new URL(`${name}.Dockerfile`, FIXTURES), 'utf8');
const opts = { buildTagArg: 'BUILD_TAG' };

const EXPECTED: Array<[rule: string, line: number, endLine: number]> = [
  ['base-latest', 2, 2],
  ['cache-bust-early', 4, 4],
  ['copy-all-before-install', 3, 3],
  ['apt-lists-not-removed', 2, 3],
  ['apt-update-alone', 2, 2],
  ['apk-no-cache', 2, 2],
  ['add-local', 3, 3],
  ['single-stage-build-tools', 4, 4],
  ['no-user', 8, 8],
];

test.each(EXPECTED)('%s.Dockerfile gives exactly that finding, at line %i', (rule, line, endLine) => {
  const findings = adviseDockerfile(read(rule), opts);
  expect(findings.map((f) => [f.rule, f.line, f.endLine])).toEqual([[rule, line, endLine]]);
});

test.each(EXPECTED.map(([rule]) => rule))('the %s finding is a one-line why and a one-line fix', (rule) => {
  const [f] = adviseDockerfile(read(rule), opts);
  expect(f?.severity).toBe('warning');
  for (const text of [f?.title ?? '', f?.fix ?? '']) {
    expect(text.length).toBeGreaterThan(20);
    expect(text).not.toMatch(/\n/);
  }
});

test('the clean multi-stage Node app gets no advice', () => {
  expect(adviseDockerfile(read('clean-multistage'), opts)).toEqual([]);
});

test('the messages carry the specifics: counts, lines, the arg name and the manifests', () => {
  const [bust] = adviseDockerfile(read('cache-bust-early'), opts);
  expect(bust?.title).toContain('every deploy reruns 2 build step(s)');
  expect(bust?.fix).toBe('Move `ARG BUILD_TAG` (and its uses) below the last expensive step (line 6)');
  const [copy] = adviseDockerfile(read('copy-all-before-install'), opts);
  expect(copy?.title).toContain('pip install at line 4');
  expect(copy?.fix).toContain('COPY requirements.txt first');
  const [latest] = adviseDockerfile(read('base-latest'), opts);
  expect(latest?.title).toContain('FROM nginx has no tag');
  const [single] = adviseDockerfile(read('single-stage-build-tools'), opts);
  expect(single?.title).toContain('dev dependencies (npm ci) and builds (line 6)');
});
