// imageLabels: the OCI labels, the base image, and the action's own app/build-tag labels, which
// retention and rollback read back from the host, so no user label may replace them.
import {
  imageLabels,
  LABEL_APP,
  LABEL_BASE_IMAGE,
  LABEL_BUILD_TAG,
  LABEL_COLOR,
} from '../../src/build/labels.js';
import type { BuildConfig, GithubContext, KeyValues } from '../../src/config/schema.js';

const NOW = new Date('2026-12-01T09:30:05.123Z');
const TAG = '20261201093005-abcdef0';
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const GITHUB: GithubContext = {
  sha: SHA,
  repository: 'acme/myapp',
  serverUrl: 'https://github.com',
  workspace: '/home/runner/work/myapp/myapp',
  runnerTemp: '/home/runner/work/_temp',
};
const BARE: GithubContext = { serverUrl: 'https://github.com', workspace: '/w', runnerTemp: '/t' };

function build(labels: KeyValues = [], buildTag = TAG): BuildConfig {
  return {
    context: '.',
    file: 'Dockerfile',
    tags: [`ghcr.io/acme/myapp:${buildTag}`],
    platforms: 'auto',
    buildArgs: [],
    buildTag,
    buildTagArg: 'BUILD_TAG',
    labels,
    cache: 'auto',
    noCache: false,
    push: false,
    lint: 'warn',
  };
}

const asObject = (l: KeyValues) => Object.fromEntries(l);
const keys = (l: KeyValues) => l.map(([k]) => k);

describe('imageLabels', () => {
  it('the action label names are stable (the host reads them back)', () => {
    expect([LABEL_APP, LABEL_BUILD_TAG, LABEL_BASE_IMAGE, LABEL_COLOR]).toEqual([
      'dev.bluegreen.app',
      'dev.bluegreen.build-tag',
      'dev.bluegreen.base-image',
      'dev.bluegreen.color',
    ]);
  });

  it('every label, in order, with a full GitHub context and a known base', () => {
    expect(imageLabels(build(), 'myapp', GITHUB, NOW, 'docker.io/library/node:20-alpine')).toEqual([
      ['org.opencontainers.image.created', '2026-12-01T09:30:05.123Z'],
      ['org.opencontainers.image.version', TAG],
      ['org.opencontainers.image.title', 'myapp'],
      ['org.opencontainers.image.revision', SHA],
      ['org.opencontainers.image.source', 'https://github.com/acme/myapp'],
      ['org.opencontainers.image.base.name', 'docker.io/library/node:20-alpine'],
      ['dev.bluegreen.base-image', 'docker.io/library/node:20-alpine'],
      ['dev.bluegreen.app', 'myapp'],
      ['dev.bluegreen.build-tag', TAG],
    ]);
  });

  it('created is the given clock in ISO 8601 UTC; version is the build tag; title is the app', () => {
    const l = asObject(imageLabels(build([], 'v1.2.0'), 'shop', GITHUB, new Date(0), undefined));
    expect(l['org.opencontainers.image.created']).toBe('1970-01-01T00:00:00.000Z');
    expect(l['org.opencontainers.image.version']).toBe('v1.2.0');
    expect(l['org.opencontainers.image.title']).toBe('shop');
    expect(l[LABEL_APP]).toBe('shop');
    expect(l[LABEL_BUILD_TAG]).toBe('v1.2.0');
  });

  it('no base name labels when the base is not known', () => {
    for (const base of [undefined, '']) {
      const k = keys(imageLabels(build(), 'myapp', GITHUB, NOW, base));
      expect(k).not.toContain('org.opencontainers.image.base.name');
      expect(k).not.toContain(LABEL_BASE_IMAGE);
    }
  });

  it('no revision or source without a sha or repository', () => {
    expect(imageLabels(build(), 'myapp', BARE, NOW, undefined)).toEqual([
      ['org.opencontainers.image.created', '2026-12-01T09:30:05.123Z'],
      ['org.opencontainers.image.version', TAG],
      ['org.opencontainers.image.title', 'myapp'],
      ['dev.bluegreen.app', 'myapp'],
      ['dev.bluegreen.build-tag', TAG],
    ]);
    const shaOnly = keys(imageLabels(build(), 'myapp', { ...BARE, sha: SHA }, NOW, undefined));
    expect(shaOnly).toContain('org.opencontainers.image.revision');
    expect(shaOnly).not.toContain('org.opencontainers.image.source');
  });

  it('the source URL follows the server (GitHub Enterprise)', () => {
    const l = asObject(
      imageLabels(build(), 'myapp', { ...GITHUB, serverUrl: 'https://git.example.com' }, NOW, undefined),
    );
    expect(l['org.opencontainers.image.source']).toBe('https://git.example.com/acme/myapp');
  });

  it("the user's labels come after the action's, in the user's order", () => {
    const l = imageLabels(
      build([
        ['org.example.team', 'payments'],
        ['com.example.tier', 'web frontend'],
      ]),
      'myapp',
      GITHUB,
      NOW,
      'alpine:3.19',
    );
    expect(keys(l).slice(-4)).toEqual([LABEL_APP, LABEL_BUILD_TAG, 'org.example.team', 'com.example.tier']);
    expect(asObject(l)['com.example.tier']).toBe('web frontend');
  });

  it('a user label overrides an OCI label of the same key: one entry, the user value', () => {
    const l = imageLabels(
      build([
        ['org.opencontainers.image.source', 'https://example.com/mirror'],
        ['org.opencontainers.image.title', 'My App'],
        ['org.opencontainers.image.base.name', 'node:20'],
      ]),
      'myapp',
      GITHUB,
      NOW,
      'docker.io/library/node:20-alpine',
    );
    expect(keys(l).filter((k) => k === 'org.opencontainers.image.source')).toHaveLength(1);
    expect(keys(l).filter((k) => k === 'org.opencontainers.image.title')).toHaveLength(1);
    const o = asObject(l);
    expect(o['org.opencontainers.image.source']).toBe('https://example.com/mirror');
    expect(o['org.opencontainers.image.title']).toBe('My App');
    expect(o['org.opencontainers.image.base.name']).toBe('node:20');
    // The action's own base-image label keeps the real base.
    expect(o[LABEL_BASE_IMAGE]).toBe('docker.io/library/node:20-alpine');
    expect(new Set(keys(l)).size).toBe(l.length);
  });

  it("a user label never replaces the action's app or build-tag label", () => {
    const l = imageLabels(
      build([
        [LABEL_APP, 'someone-else'],
        [LABEL_BUILD_TAG, 'v0-forged'],
        ['org.example.keep', 'yes'],
      ]),
      'myapp',
      GITHUB,
      NOW,
      undefined,
    );
    expect(l.filter(([k]) => k === LABEL_APP)).toEqual([[LABEL_APP, 'myapp']]);
    expect(l.filter(([k]) => k === LABEL_BUILD_TAG)).toEqual([[LABEL_BUILD_TAG, TAG]]);
    expect(asObject(l)['org.example.keep']).toBe('yes');
    expect(keys(l).slice(-3)).toEqual([LABEL_APP, LABEL_BUILD_TAG, 'org.example.keep']);
  });

  it('a key given twice by the user: one entry, the last value', () => {
    const l = imageLabels(
      build([
        ['org.example.a', '1'],
        ['org.example.a', '2'],
      ]),
      'myapp',
      BARE,
      NOW,
      undefined,
    );
    expect(l.filter(([k]) => k === 'org.example.a')).toEqual([['org.example.a', '2']]);
  });

  it('does not change the build config it reads', () => {
    const labels: KeyValues = [['org.opencontainers.image.title', 'x']];
    const b = build(labels);
    imageLabels(b, 'myapp', GITHUB, NOW, 'alpine');
    expect(b.labels).toEqual([['org.opencontainers.image.title', 'x']]);
  });
});
