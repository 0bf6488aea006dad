import type { RetentionConfig } from '../../src/config/schema.js';
import {
  planRetention,
  repositoryOf,
  type BuildCacheRecord,
  type CachePrune,
  type Deletion,
  type HostContainer,
  type HostImage,
  type RetentionInput,
  type RetentionPlan,
} from '../../src/retention/plan.js';

const MB = 1_000_000;
const APP_LABEL = 'dev.bluegreen.app';
const REPO = 'ghcr.io/acme/myapp';
const NOW = 2_000_000_000;

interface ImageSpec {
  tags?: string[];
  created?: number;
  /** [chainId, MB] */
  layers?: Array<[string, number]>;
  labels?: Record<string, string>;
  app?: string;
  parent?: string;
  lastUsed?: number;
}

/** An image with id `sha256:<id>`; sizes in MB. */
function image(id: string, s: ImageSpec = {}): HostImage {
  const layers = (s.layers ?? [[`own-${id}`, 10]]).map(([chainId, mb]) => ({ chainId, size: mb * MB }));
  return {
    id: `sha256:${id}`,
    repoTags: s.tags ?? [],
    created: s.created ?? 100,
    size: layers.reduce((n, l) => n + l.size, 0),
    labels: { ...(s.app ? { [APP_LABEL]: s.app } : {}), ...s.labels },
    layers,
    ...(s.parent ? { parentId: `sha256:${s.parent}` } : {}),
    ...(s.lastUsed !== undefined ? { lastUsed: s.lastUsed } : {}),
  };
}

/** A release of myapp: tagged `ghcr.io/acme/myapp:<id>` and labelled. */
const release = (id: string, s: ImageSpec = {}): HostImage =>
  image(id, { tags: [`${REPO}:${id}`], app: 'myapp', ...s });

function container(name: string, imageId: string, state = 'running'): HostContainer {
  return { id: `c-${name}`, names: [`/${name}`], imageId: `sha256:${imageId}`, state, labels: {} };
}

type Over = Partial<Omit<RetentionInput, 'rules'>> & { rules?: Partial<RetentionConfig> };
function input(images: HostImage[], over: Over = {}): RetentionInput {
  const { rules, ...rest } = over;
  const layerBytes = new Map<string, number>();
  for (const i of images) for (const l of i.layers) layerBytes.set(l.chainId, l.size);
  return {
    app: 'myapp',
    repository: REPO,
    appLabel: APP_LABEL,
    images,
    containers: [],
    buildCache: [],
    disk: { dockerDataBytes: [...layerBytes.values()].reduce((a, b) => a + b, 0) },
    history: [],
    now: NOW,
    ...rest,
    rules: {
      keepImages: 3,
      pruneDangling: true,
      pruneBuildCache: false,
      pruneScope: 'app',
      protectLabels: [],
      ...rules,
    },
  };
}

const short = (id: string): string => id.replace(/^sha256:/, '');
const images = (p: RetentionPlan): Deletion[] => p.deletions.filter((d): d is Deletion => d.kind === 'image');
const deleted = (p: RetentionPlan): string[] => images(p).map((d) => short(d.id));
const kept = (p: RetentionPlan): string[] => p.kept.map((k) => short(k.id));
const why = (p: RetentionPlan, id: string): string => p.kept.find((k) => k.id === `sha256:${id}`)?.why ?? '';
const row = (p: RetentionPlan): Array<[string, string, number]> =>
  images(p).map((d) => [short(d.id), d.reason, d.frees / MB]);
const cachePrune = (p: RetentionPlan): CachePrune | undefined =>
  p.deletions.find((d): d is CachePrune => d.kind === 'build-cache');

describe("seed 000: after a switch the old color's image goes, unless something still needs it", () => {
  // blue ran release 1, green now runs release 2; both share the OS and dependency layers.
  const layers1: Array<[string, number]> = [
    ['os', 5],
    ['deps', 100],
    ['app-1', 20],
  ];
  const layers2: Array<[string, number]> = [
    ['os', 5],
    ['deps', 100],
    ['app-2', 21],
  ];
  const host = [
    release('v1', { created: 100, layers: layers1 }),
    release('v2', { created: 200, layers: layers2 }),
  ];
  const base: Over = {
    rules: { keepImages: 1 },
    activeImageId: 'sha256:v2',
    containers: [container('myapp-green', 'v2')],
  };

  test('no container uses the old image: it is deleted and frees only its own layer', () => {
    const p = planRetention(input(host, base));
    expect(row(p)).toEqual([['v1', 'older than the newest 1 of myapp', 20]]);
    expect(kept(p)).toEqual(['v2']);
    expect(why(p, 'v2')).toBe(
      'active image; used by container myapp-green (running); #1 of the newest 1 of myapp',
    );
    expect(p.totalFrees).toBe(20 * MB);
    expect(p.projectedDockerDataBytes).toBe(126 * MB);
  });

  test('a stopped container of the old color still uses it: it stays', () => {
    const p = planRetention(
      input(host, { ...base, containers: [...base.containers!, container('myapp-blue', 'v1', 'exited')] }),
    );
    expect(p.deletions).toEqual([]);
    expect(why(p, 'v1')).toBe('used by container myapp-blue (exited)');
  });

  test('the image a rollback needs stays, even beyond keep-images', () => {
    const p = planRetention(input(host, { ...base, rollbackImageId: 'sha256:v1' }));
    expect(p.deletions).toEqual([]);
    expect(why(p, 'v1')).toBe('rollback image');
  });

  test('ids given without the sha256: prefix match too', () => {
    const p = planRetention(input(host, { ...base, activeImageId: 'v2', rollbackImageId: 'v1' }));
    expect(p.deletions).toEqual([]);
  });
});

describe('shared layers', () => {
  test('frees count each layer once, when its last image goes, in deletion order', () => {
    const host = [
      release('a', {
        created: 100,
        layers: [
          ['os', 5],
          ['x', 30],
          ['a', 7],
        ],
      }),
      release('b', {
        created: 200,
        layers: [
          ['os', 5],
          ['x', 30],
          ['b', 8],
        ],
      }),
      release('c', {
        created: 300,
        layers: [
          ['os', 5],
          ['c', 9],
        ],
      }),
    ];
    const p = planRetention(input(host, { rules: { keepImages: 1 }, activeImageId: 'sha256:c' }));
    expect(row(p)).toEqual([
      ['a', 'older than the newest 1 of myapp', 7], // x is still b's
      ['b', 'older than the newest 1 of myapp', 38], // b's own and x, now nobody's
    ]);
    expect(p.totalFrees).toBe(45 * MB);
    // Docker's sizes add up to more than what the deletions free.
    expect(host[0]!.size + host[1]!.size).toBe(85 * MB);
  });

  test('an image without layer detail frees its own size', () => {
    const old = { ...release('a', { created: 1 }), layers: [], size: 42 * MB };
    const p = planRetention(input([old, release('b', { created: 2 })], { rules: { keepImages: 1 } }));
    expect(row(p)).toEqual([['a', 'older than the newest 1 of myapp', 42]]);
  });
});

describe('keep-images', () => {
  const v = (n: number, s: ImageSpec = {}): HostImage => release(`v${n}`, { created: n * 100, ...s });
  const host = [v(1), v(2), v(3), v(4)];
  const deploys = (...pairs: Array<[number, number]>) =>
    pairs.map(([n, at]) => ({ buildTag: `v${n}`, imageId: `sha256:v${n}`, at }));

  test.each([
    {
      name: 'no history: the newest by creation stay',
      over: {},
      kept: ['v4', 'v3'],
      deleted: ['v1', 'v2'],
    },
    {
      name: 'history first: a rollback to v1 makes it the newest; never-deployed v2 ranks last',
      over: { history: deploys([4, 410], [3, 310], [1, 500], [1, 120]) },
      kept: ['v1', 'v4'],
      deleted: ['v2', 'v3'],
    },
    {
      name: 'a deployed image outranks a newer one that was never deployed',
      over: { history: deploys([2, 210]) },
      kept: ['v2', 'v4'],
      deleted: ['v1', 'v3'],
    },
    {
      name: 'active and rollback stay even beyond the newest N',
      over: { activeImageId: 'sha256:v1', rollbackImageId: 'sha256:v2', rules: { keepImages: 1 } },
      kept: ['v4', 'v2', 'v1'],
      deleted: ['v3'],
    },
  ])('$name', ({ over, kept: k, deleted: d }) => {
    const rules = { keepImages: 2, ...('rules' in over ? over.rules : {}) };
    const p = planRetention(input(host, { ...over, rules }));
    expect(kept(p)).toEqual(k);
    expect(deleted(p).sort()).toEqual(d);
    for (const x of images(p)) expect(x.reason).toBe(`older than the newest ${rules.keepImages} of myapp`);
  });

  test('the reason names the rank of what stays', () => {
    const p = planRetention(input(host, { rules: { keepImages: 2 } }));
    expect(why(p, 'v4')).toBe('#1 of the newest 2 of myapp');
    expect(why(p, 'v3')).toBe('#2 of the newest 2 of myapp');
  });
});

test('protect-labels: KEY=VALUE protects, another value does not', () => {
  const host = [
    release('v1', { created: 100, labels: { keep: 'true' } }),
    release('v2', { created: 200, labels: { keep: 'false' } }),
    release('v3', { created: 300, labels: { tier: 'gold' } }),
    release('v4', { created: 400 }),
  ];
  const p = planRetention(
    input(host, {
      rules: {
        keepImages: 1,
        protectLabels: [
          ['keep', 'true'],
          ['tier', 'gold'],
        ],
      },
    }),
  );
  expect(deleted(p)).toEqual(['v2']);
  expect(why(p, 'v1')).toBe('protected by label keep=true');
  expect(why(p, 'v3')).toBe('protected by label tier=gold');
});

describe('prune-scope', () => {
  const host = [
    release('new', { created: 500 }),
    image('repo-only', { tags: [`${REPO}:old`], created: 100 }), // this repository, no label
    image('label-only', { tags: ['local/thing:1'], app: 'myapp', created: 110 }), // label, other repository
    image('nginx', { tags: ['nginx:1.25'], created: 50 }),
    image('other', { tags: ['ghcr.io/acme/other:1'], app: 'other', created: 60 }),
    image('redis', { tags: ['redis:7'], created: 70 }),
  ];
  const containers = [container('cache', 'redis')];

  test("app: the app's old images go (by label or by repository); other apps' images stay", () => {
    const p = planRetention(input(host, { rules: { keepImages: 1 }, containers }));
    expect(row(p)).toEqual([
      ['repo-only', 'older than the newest 1 of myapp', 10],
      ['label-only', 'older than the newest 1 of myapp', 10],
    ]);
    expect(why(p, 'nginx')).toBe("not myapp's (prune-scope: app)");
    expect(why(p, 'other')).toBe("not myapp's (prune-scope: app)");
    expect(why(p, 'redis')).toBe("used by container cache (running); not myapp's (prune-scope: app)");
  });

  test('all: every unused image goes, still not one a container uses', () => {
    const p = planRetention(input(host, { rules: { keepImages: 1, pruneScope: 'all' }, containers }));
    expect(row(p)).toEqual([
      ['nginx', 'unused (prune-scope: all)', 10],
      ['other', 'unused (prune-scope: all)', 10],
      ['repo-only', 'older than the newest 1 of myapp', 10],
      ['label-only', 'older than the newest 1 of myapp', 10],
    ]);
    expect(kept(p)).toEqual(['new', 'redis']);
    expect(why(p, 'redis')).toBe('used by container cache (running)');
  });

  test('repositories compare in familiar form', () => {
    expect(repositoryOf('docker.io/library/nginx:1.25')).toBe('nginx');
    expect(repositoryOf('localhost:5000/acme/myapp:7')).toBe('localhost:5000/acme/myapp');
    expect(repositoryOf('localhost:5000/acme/myapp')).toBe('localhost:5000/acme/myapp');
    expect(repositoryOf('acme/myapp@sha256:abc')).toBe('acme/myapp');
    const p = planRetention(
      input([image('a', { tags: ['acme/myapp:1'], created: 1 }), image('b', { tags: ['acme/myapp:2'] })], {
        repository: 'docker.io/acme/myapp',
        rules: { keepImages: 1 },
      }),
    );
    expect(deleted(p)).toEqual(['a']);
  });
});

describe('dangling images', () => {
  const host = [
    release('v1', { created: 300 }),
    image('d1', { created: 10 }), // no tags at all (newer daemons)
    image('d2', { tags: ['<none>:<none>'], created: 20 }), // older daemons
    image('d3', { created: 30, app: 'other' }), // someone else's: dangling is in scope anyway
    image('d4', { created: 40 }),
  ];
  const containers = [container('debug', 'd4', 'exited')];

  test.each(['app', 'all'] as const)('prune-dangling removes the unused ones (scope %s)', (pruneScope) => {
    const p = planRetention(input(host, { containers, rules: { pruneScope } }));
    expect(row(p)).toEqual([
      ['d1', 'dangling', 10],
      ['d2', 'dangling', 10],
      ['d3', 'dangling', 10],
    ]);
    expect(images(p)[1]!.tags).toEqual([]);
    expect(why(p, 'd4')).toBe('used by container debug (exited)');
  });

  test('prune-dangling false keeps them and says so', () => {
    const p = planRetention(input(host, { containers, rules: { pruneDangling: false } }));
    expect(p.deletions).toEqual([]);
    expect(why(p, 'd1')).toBe('dangling; prune-dangling is off');
  });
});

describe('parents (classic builder)', () => {
  // node:20 ← i1 ← v1 (old) ; node:20 ← i2 ← v2 (kept). Intermediates are untagged.
  const host = [
    image('node', { tags: ['node:20'], created: 1, layers: [['os', 50]] }),
    image('i1', {
      created: 10,
      parent: 'node',
      layers: [
        ['os', 50],
        ['i1', 5],
      ],
    }),
    release('v1', {
      created: 11,
      parent: 'i1',
      layers: [
        ['os', 50],
        ['i1', 5],
        ['v1', 3],
      ],
    }),
    image('i2', {
      created: 20,
      parent: 'node',
      layers: [
        ['os', 50],
        ['i2', 6],
      ],
    }),
    release('v2', {
      created: 21,
      parent: 'i2',
      layers: [
        ['os', 50],
        ['i2', 6],
        ['v2', 4],
      ],
    }),
  ];

  test('a child goes before its parent; an image that stays keeps its parent chain', () => {
    const p = planRetention(input(host, { rules: { keepImages: 1 } }));
    // i1 is older than v1, yet v1 must go first.
    expect(row(p)).toEqual([
      ['v1', 'older than the newest 1 of myapp', 3],
      ['i1', 'dangling', 5],
    ]);
    expect(why(p, 'i2')).toBe('parent of ghcr.io/acme/myapp:v2, which stays');
    expect(why(p, 'node')).toBe("not myapp's (prune-scope: app)");
  });

  test('scope all: the base image stays as the parent of a chain that stays', () => {
    const p = planRetention(input(host, { rules: { keepImages: 1, pruneScope: 'all' } }));
    expect(deleted(p)).toEqual(['v1', 'i1']);
    expect(why(p, 'node')).toBe('parent of sha256:i2, which stays');
  });

  test('an old release that is the parent of a kept one stays', () => {
    const chain = [release('v1', { created: 1 }), release('v2', { created: 2, parent: 'v1' })];
    const p = planRetention(input(chain, { rules: { keepImages: 1 } }));
    expect(p.deletions).toEqual([]);
    expect(why(p, 'v1')).toBe('parent of ghcr.io/acme/myapp:v2, which stays');
  });
});

describe('prune-build-cache', () => {
  const day = 86_400;
  const records: BuildCacheRecord[] = [
    { id: 'busy', size: 99 * MB, createdAt: NOW - 30 * day, inUse: true, shared: false, type: 'regular' },
    {
      id: 'old',
      size: 10 * MB,
      createdAt: NOW - 30 * day,
      lastUsedAt: NOW - 9 * day,
      inUse: false,
      shared: false,
      type: 'regular',
    },
    {
      id: 'fresh',
      size: 5 * MB,
      createdAt: NOW - 30 * day,
      lastUsedAt: NOW - day,
      inUse: false,
      shared: false,
      type: 'exec.cachemount',
    },
    { id: 'shared', size: 7 * MB, createdAt: NOW - 20 * day, inUse: false, shared: true, type: 'regular' },
  ];
  const host = [release('v1')];

  test('false: nothing', () => {
    expect(planRetention(input(host, { buildCache: records })).deletions).toEqual([]);
  });

  test('all: every record not in use; shared ones free nothing', () => {
    const p = planRetention(input(host, { buildCache: records, rules: { pruneBuildCache: 'all' } }));
    expect(p.deletions).toEqual([
      {
        kind: 'build-cache',
        all: true,
        reason: 'prune-build-cache: all (every record not in use)',
        frees: 15 * MB,
        records: 3,
      },
    ]);
    expect(p.totalFrees).toBe(15 * MB);
  });

  test('an age: records unused for longer (last use, else creation)', () => {
    const rules = { pruneBuildCache: { olderThanMs: 168 * 3_600_000 } };
    const p = planRetention(input(host, { buildCache: records, rules }));
    expect(cachePrune(p)).toEqual({
      kind: 'build-cache',
      all: false,
      olderThanSeconds: 7 * day,
      reason: 'prune-build-cache: unused for longer than 7d',
      frees: 10 * MB,
      records: 2,
    });
  });

  test('comes after the image deletions', () => {
    const p = planRetention(
      input([release('a', { created: 1 }), release('b', { created: 2 })], {
        buildCache: records,
        rules: { keepImages: 1, pruneBuildCache: 'all' },
      }),
    );
    expect(p.deletions.map((d) => d.kind)).toEqual(['image', 'build-cache']);
    expect(p.totalFrees).toBe(25 * MB);
  });
});

describe('max-disk-usage and requiredFreeBytes', () => {
  // Four releases with 60 MB of their own over a shared 100 MB base, plus another app's image.
  const v = (n: number, s: ImageSpec = {}): HostImage =>
    release(`v${n}`, {
      created: n * 100,
      layers: [
        ['base', 100],
        [`v${n}`, 60],
      ],
      ...s,
    });
  const host = [v(1), v(2), v(3), v(4), image('other', { tags: ['other:1'], layers: [['o', 200]] })];
  const disk = { dockerDataBytes: 540 * MB, fsTotalBytes: 1000 * MB, fsFreeBytes: 100 * MB }; // 90% used
  const base: Over = { disk, activeImageId: 'sha256:v4', containers: [container('myapp-blue', 'v4')] };

  test('percent: evicts the least recently used until under, saying it was kept by keep-images', () => {
    const p = planRetention(
      input(host, { ...base, rules: { maxDiskUsage: { kind: 'percent', percent: 80 } } }),
    );
    // v1 goes by keep-images (84% used), then v2 is evicted (78%).
    expect(row(p)).toEqual([
      ['v1', 'older than the newest 3 of myapp', 60],
      [
        'v2',
        'least recently used (1970-01-01 00:03Z): evicted to get under max-disk-usage 80%; it was #3 of the newest 3 of myapp (keep-images)',
        60,
      ],
    ]);
    expect(p.warnings).toEqual([]);
    expect(p.projectedFsFreeBytes).toBe(220 * MB);
    expect(p.projectedDockerDataBytes).toBe(420 * MB);
  });

  test('exactly at the threshold is not over', () => {
    const p = planRetention(
      input(host, { ...base, rules: { maxDiskUsage: { kind: 'percent', percent: 84 } } }),
    );
    expect(deleted(p)).toEqual(['v1']);
  });

  test('least recently used is lastUsed (or the last deploy), not creation', () => {
    const hosts = [v(1), v(2, { lastUsed: 900 }), v(3), v(4)];
    const p = planRetention(
      input(hosts, { ...base, rules: { maxDiskUsage: { kind: 'percent', percent: 80 } } }),
    );
    expect(deleted(p)).toEqual(['v1', 'v3']);
    const h = [{ buildTag: 'v3', imageId: 'sha256:v3', at: 1000 }];
    const q = planRetention(
      input(host, { ...base, history: h, rules: { maxDiskUsage: { kind: 'percent', percent: 80 } } }),
    );
    expect(deleted(q)).toEqual(['v1', 'v2']);
  });

  test('bytes: Docker data above the size evicts too', () => {
    const p = planRetention(
      input(host, { ...base, rules: { maxDiskUsage: { kind: 'bytes', bytes: 470 * MB } } }),
    );
    expect(deleted(p)).toEqual(['v1', 'v2']);
    expect(images(p)[1]!.reason).toContain('evicted to get under max-disk-usage 470 MB');
    expect(p.projectedDockerDataBytes).toBe(420 * MB);
  });

  test('cannot get under: everything allowed goes, and a warning says by how much and why', () => {
    const p = planRetention(
      input(host, { ...base, rules: { maxDiskUsage: { kind: 'percent', percent: 10 } } }),
    );
    expect(deleted(p)).toEqual(['v1', 'v2', 'v3']);
    expect(kept(p)).toEqual(['v4', 'other']);
    expect(p.warnings).toEqual([
      "max-disk-usage 10%: still 620 MB over after removing every image that may go (the disk would be 72.0% used); blocked by the active image: 1 (ghcr.io/acme/myapp:v4), other apps' images (prune-scope: app): 1 (other:1); images that stay hold 360 MB, other Docker data (containers, volumes, build cache) 0 B",
    ]);
  });

  test('the build cache prune counts before any eviction', () => {
    const buildCache: BuildCacheRecord[] = [
      { id: 'r', size: 60 * MB, createdAt: 0, inUse: false, shared: false, type: 'regular' },
    ];
    const rules = {
      maxDiskUsage: { kind: 'percent', percent: 80 } as const,
      pruneBuildCache: 'all' as const,
    };
    const p = planRetention(input(host, { ...base, buildCache, rules }));
    expect(deleted(p)).toEqual(['v1']);
    expect(p.totalFrees).toBe(120 * MB);
  });

  test('percent without the filesystem size: a warning, no eviction', () => {
    const p = planRetention(
      input(host, {
        ...base,
        disk: { dockerDataBytes: 540 * MB },
        rules: { maxDiskUsage: { kind: 'percent', percent: 10 } },
      }),
    );
    expect(deleted(p)).toEqual(['v1']);
    expect(p.warnings).toEqual([
      'max-disk-usage 10%: the size of the Docker filesystem is unknown; not applied',
    ]);
  });

  test('requiredFreeBytes: evicts until that much is free', () => {
    const p = planRetention(input(host, { ...base, requiredFreeBytes: 250 * MB }));
    expect(row(p)).toEqual([
      ['v1', 'older than the newest 3 of myapp', 60],
      [
        'v2',
        'least recently used (1970-01-01 00:03Z): evicted to make room: the deploy needs 250 MB free; it was #3 of the newest 3 of myapp (keep-images)',
        60,
      ],
      [
        'v3',
        'least recently used (1970-01-01 00:05Z): evicted to make room: the deploy needs 250 MB free; it was #2 of the newest 3 of myapp (keep-images)',
        60,
      ],
    ]);
    expect(p.projectedFsFreeBytes).toBe(280 * MB);
    expect(p.warnings).toEqual([]);
  });

  test('requiredFreeBytes out of reach: a warning naming what blocks', () => {
    const p = planRetention(input(host, { ...base, requiredFreeBytes: 900 * MB }));
    expect(deleted(p)).toEqual(['v1', 'v2', 'v3']);
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toMatch(
      /^the 900 MB of free space the deploy needs: still 620 MB short .*280 MB would be free/,
    );
    expect(p.warnings[0]).toContain('the active image: 1 (ghcr.io/acme/myapp:v4)');
  });

  test('requiredFreeBytes without free space known: a warning', () => {
    const p = planRetention(input(host, { ...base, disk: { dockerDataBytes: 1 }, requiredFreeBytes: 1 }));
    expect(p.warnings).toEqual(['1 B must be free for the deploy, but free space is unknown; not checked']);
  });

  test('an evicted child unlocks its parent', () => {
    const chain = [
      image('p', { tags: ['x/p:1'], app: 'myapp', created: 1, layers: [['p', 100]] }),
      image('c', {
        tags: ['x/c:1'],
        app: 'myapp',
        created: 2,
        parent: 'p',
        layers: [
          ['p', 100],
          ['c', 1],
        ],
      }),
      release('top', { created: 3, layers: [['t', 1]] }),
    ];
    const p = planRetention(
      input(chain, {
        activeImageId: 'sha256:top',
        disk: { dockerDataBytes: 102 * MB },
        rules: { maxDiskUsage: { kind: 'bytes', bytes: 50 * MB } },
      }),
    );
    expect(row(p).map(([id, , mb]) => [id, mb])).toEqual([
      ['c', 1],
      ['p', 100],
    ]);
  });
});

test('deterministic: the order of the input does not matter', () => {
  const host = [
    release('a', {
      created: 5,
      layers: [
        ['s', 1],
        ['a', 2],
      ],
    }),
    release('b', {
      created: 5,
      layers: [
        ['s', 1],
        ['b', 2],
      ],
    }),
    release('c', {
      created: 5,
      layers: [
        ['s', 1],
        ['c', 2],
      ],
    }),
    image('d', { created: 5 }),
    image('e', { created: 5 }),
  ];
  const over: Over = { rules: { keepImages: 1, maxDiskUsage: { kind: 'bytes', bytes: 1 } } };
  const a = planRetention(input(host, over));
  const b = planRetention(input([...host].reverse(), over));
  expect(b).toEqual(a);
  // Equal ranks break ties by id.
  expect(kept(a)).toEqual([]);
  expect(deleted(a)).toEqual(['b', 'c', 'd', 'e', 'a']);
});

test('every image is either deleted or kept, with a why', () => {
  const host = [release('a', { created: 1 }), release('b', { created: 2 }), image('n', { tags: ['n:1'] })];
  const p = planRetention(input(host, { rules: { keepImages: 1 } }));
  expect([...deleted(p), ...kept(p)].sort()).toEqual(['a', 'b', 'n']);
  for (const k of p.kept) expect(k.why).not.toBe('');
});
