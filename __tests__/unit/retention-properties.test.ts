// Random hosts against the planner's safety contract. Every oracle here is written from the rules
// in INTERFACE.md, independently of plan.ts.
import fc from 'fast-check';
import type { RetentionConfig } from '../../src/config/schema.js';
import {
  planRetention,
  type Deletion,
  type HostImage,
  type RetentionInput,
  type RetentionPlan,
} from '../../src/retention/plan.js';

const APP_LABEL = 'dev.bluegreen.app';
const REPO = 'ghcr.io/acme/myapp';
const POOL = 10;

const TAGS = {
  none: () => [],
  noneStr: () => ['<none>:<none>'],
  repo: (i: number) => [`${REPO}:t${i}`],
  other: (i: number) => [`ghcr.io/acme/other:t${i}`],
  hub: (i: number) => [`nginx:${i}`, `nginx:latest-${i}`],
} as const;

const imageSpec = fc.record({
  layers: fc.uniqueArray(fc.integer({ min: 0, max: POOL - 1 }), { maxLength: 5 }),
  tag: fc.constantFrom<keyof typeof TAGS>('none', 'noneStr', 'repo', 'repo', 'repo', 'other', 'hub'),
  app: fc.constantFrom(undefined, 'myapp', 'other'),
  keep: fc.boolean(),
  created: fc.integer({ min: 0, max: 1000 }),
  lastUsed: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
  parent: fc.option(fc.nat(), { nil: undefined }),
  size: fc.nat(500),
});

const rulesArb: fc.Arbitrary<RetentionConfig> = fc.record({
  keepImages: fc.integer({ min: 1, max: 5 }),
  pruneDangling: fc.boolean(),
  pruneBuildCache: fc.constantFrom<RetentionConfig['pruneBuildCache']>(false, 'all', {
    olderThanMs: 3_600_000,
  }),
  pruneScope: fc.constantFrom('app' as const, 'all' as const),
  maxDiskUsage: fc.option(
    fc.oneof(
      fc.record({ kind: fc.constant('percent' as const), percent: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('bytes' as const), bytes: fc.integer({ min: 1, max: 5000 }) }),
    ),
    { nil: undefined },
  ),
  protectLabels: fc.constantFrom<RetentionConfig['protectLabels']>([], [['keep', 'yes']]),
});

const hostArb: fc.Arbitrary<RetentionInput> = fc
  .record({
    layerSizes: fc.array(fc.nat(1000), { minLength: POOL, maxLength: POOL }),
    specs: fc.array(imageSpec, { maxLength: 14 }),
    containers: fc.array(
      fc.record({ img: fc.nat(), state: fc.constantFrom('running', 'exited', 'created') }),
      {
        maxLength: 5,
      },
    ),
    active: fc.option(fc.nat(), { nil: undefined }),
    rollback: fc.option(fc.nat(), { nil: undefined }),
    history: fc.array(fc.record({ img: fc.nat(), at: fc.integer({ min: 0, max: 2000 }) }), { maxLength: 8 }),
    cache: fc.array(
      fc.record({
        size: fc.nat(300),
        createdAt: fc.integer({ min: 0, max: 10_000 }),
        lastUsedAt: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
        inUse: fc.boolean(),
        shared: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    extraData: fc.nat(3000),
    fs: fc.option(fc.record({ total: fc.integer({ min: 1, max: 20_000 }), free: fc.nat(20_000) }), {
      nil: undefined,
    }),
    required: fc.option(fc.nat(10_000), { nil: undefined }),
    rules: rulesArb,
  })
  .map((h): RetentionInput => {
    const n = h.specs.length;
    const id = (k: number): string => `sha256:i${k}`;
    const images: HostImage[] = h.specs.map((s, i) => ({
      id: id(i),
      repoTags: [...TAGS[s.tag](i)],
      created: s.created,
      size: s.size,
      labels: { ...(s.app ? { [APP_LABEL]: s.app } : {}), ...(s.keep ? { keep: 'yes' } : {}) },
      layers: s.layers.map((l) => ({ chainId: `L${l}`, size: h.layerSizes[l]! })),
      // Parents are earlier images, as the classic builder makes them.
      ...(i > 0 && s.parent !== undefined ? { parentId: id(s.parent % i) } : {}),
      ...(s.lastUsed !== undefined ? { lastUsed: s.lastUsed } : {}),
    }));
    const pick = (k: number): string => id(k % (n + 1)); // sometimes an image that is not there
    const held = new Map<string, number>();
    for (const img of images) {
      if (img.layers.length === 0) held.set(img.id, img.size);
      for (const l of img.layers) held.set(l.chainId, l.size);
    }
    return {
      app: 'myapp',
      repository: REPO,
      appLabel: APP_LABEL,
      images,
      containers: h.containers.map((c, i) => ({
        id: `c${i}`,
        names: [`/c${i}`],
        imageId: pick(c.img),
        state: c.state,
        labels: {},
      })),
      buildCache: h.cache.map((c, i) => ({ id: `r${i}`, type: 'regular', ...c })),
      disk: {
        dockerDataBytes: [...held.values()].reduce((a, b) => a + b, 0) + h.extraData,
        ...(h.fs ? { fsTotalBytes: h.fs.total, fsFreeBytes: Math.min(h.fs.free, h.fs.total) } : {}),
      },
      ...(h.active !== undefined ? { activeImageId: pick(h.active) } : {}),
      ...(h.rollback !== undefined ? { rollbackImageId: pick(h.rollback) } : {}),
      history: h.history.map((r) => ({ buildTag: `b${r.at}`, imageId: pick(r.img), at: r.at })),
      rules: h.rules,
      now: 10_000,
      ...(h.required !== undefined ? { requiredFreeBytes: h.required } : {}),
    };
  });

// --- oracles ---------------------------------------------------------------------------------

const isDangling = (i: HostImage): boolean => i.repoTags.every((t) => t === '<none>:<none>');
const isApp = (i: HostImage): boolean =>
  i.labels[APP_LABEL] === 'myapp' || i.repoTags.some((t) => t.startsWith(`${REPO}:`));

/** The never-delete set that does not depend on the plan. */
function neverDelete(input: RetentionInput, i: HostImage): boolean {
  return (
    input.containers.some((c) => c.imageId === i.id) ||
    i.id === input.activeImageId ||
    i.id === input.rollbackImageId ||
    input.rules.protectLabels.some(([k, v]) => i.labels[k] === v) ||
    (input.rules.pruneScope === 'app' && !isApp(i) && !isDangling(i))
  );
}

const imageDeletions = (p: RetentionPlan): Deletion[] =>
  p.deletions.filter((d): d is Deletion => d.kind === 'image');

/** Layer keys an image holds (its own size stands in when Docker gave no layers). */
function holds(i: HostImage): Map<string, number> {
  if (i.layers.length === 0) return new Map(i.size > 0 ? [[`own:${i.id}`, i.size]] : []);
  return new Map(i.layers.map((l) => [l.chainId, l.size]));
}

function run<T extends [unknown, ...unknown[]]>(prop: fc.IPropertyWithHooks<T>, numRuns = 300): void {
  fc.assert(prop, { numRuns });
}

// --- properties ------------------------------------------------------------------------------

test('never deletes a protected image, an image twice, or the parent of an image that stays', () => {
  run(
    fc.property(hostArb, (input) => {
      const plan = planRetention(input);
      const gone = imageDeletions(plan).map((d) => d.id);
      expect(new Set(gone).size).toBe(gone.length);
      const byId = new Map(input.images.map((i) => [i.id, i]));
      for (const id of gone) {
        const img = byId.get(id);
        expect(img).toBeDefined();
        expect(neverDelete(input, img!)).toBe(false);
      }
      const stays = input.images.filter((i) => !gone.includes(i.id));
      for (const i of stays) if (i.parentId && byId.has(i.parentId)) expect(gone).not.toContain(i.parentId);
      // Every image is accounted for exactly once.
      expect([...gone, ...plan.kept.map((k) => k.id)].sort()).toEqual(input.images.map((i) => i.id).sort());
      // Scope app never touches another app's tagged image.
      if (input.rules.pruneScope === 'app') {
        for (const id of gone) {
          const img = byId.get(id)!;
          expect(isApp(img) || isDangling(img)).toBe(true);
        }
      }
    }),
    1000,
  );
});

test('frees are what each deletion really frees, in order; their sum is the layers nobody holds', () => {
  run(
    fc.property(hostArb, (input) => {
      const plan = planRetention(input);
      const dels = imageDeletions(plan);
      const refs = new Map<string, number>();
      for (const i of input.images) for (const k of holds(i).keys()) refs.set(k, (refs.get(k) ?? 0) + 1);
      const byId = new Map(input.images.map((i) => [i.id, i]));
      for (const d of dels) {
        expect(d.frees).toBeGreaterThanOrEqual(0);
        let freed = 0;
        for (const [k, size] of holds(byId.get(d.id)!)) {
          refs.set(k, refs.get(k)! - 1);
          if (refs.get(k) === 0) freed += size;
        }
        expect(d.frees).toBe(freed);
      }
      // Order-free statement of the same thing.
      const gone = new Set(dels.map((d) => d.id));
      const left = new Set(input.images.filter((i) => !gone.has(i.id)).flatMap((i) => [...holds(i).keys()]));
      const unheld = new Map<string, number>();
      for (const i of input.images.filter((x) => gone.has(x.id))) {
        for (const [k, s] of holds(i)) if (!left.has(k)) unheld.set(k, s);
      }
      const imageFrees = dels.reduce((s, d) => s + d.frees, 0);
      expect(imageFrees).toBe([...unheld.values()].reduce((a, b) => a + b, 0));
      // Totals and projections.
      const all = plan.deletions.reduce((s, d) => s + d.frees, 0);
      expect(plan.totalFrees).toBe(all);
      expect(plan.projectedDockerDataBytes).toBe(Math.max(0, input.disk.dockerDataBytes - all));
      if (input.disk.fsFreeBytes !== undefined)
        expect(plan.projectedFsFreeBytes).toBe(input.disk.fsFreeBytes + all);
      for (const d of plan.deletions) if (d.kind === 'build-cache') expect(d.frees).toBeGreaterThanOrEqual(0);
    }),
  );
});

test('children are deleted before their parents', () => {
  run(
    fc.property(hostArb, (input) => {
      const dels = imageDeletions(planRetention(input));
      const at = new Map(dels.map((d, i) => [d.id, i]));
      for (const img of input.images) {
        const p = img.parentId === undefined ? undefined : at.get(img.parentId);
        const c = at.get(img.id);
        if (p !== undefined && c !== undefined) expect(c).toBeLessThan(p);
      }
      // The build-cache prune, when there is one, comes last.
      const plan = planRetention(input);
      const cacheAt = plan.deletions.findIndex((d) => d.kind === 'build-cache');
      if (cacheAt >= 0) expect(cacheAt).toBe(plan.deletions.length - 1);
    }),
  );
});

test('keep-images of the app stay, unless an eviction says so', () => {
  run(
    fc.property(hostArb, (input) => {
      const plan = planRetention(input);
      const dels = imageDeletions(plan);
      const evicted = dels.some((d) => d.reason.includes('evicted'));
      if (input.rules.maxDiskUsage === undefined && input.requiredFreeBytes === undefined) {
        expect(evicted).toBe(false);
      }
      const gone = new Set(dels.map((d) => d.id));
      const releases = input.images.filter((i) => isApp(i) && !isDangling(i));
      const left = releases.filter((i) => !gone.has(i.id)).length;
      if (!evicted) expect(left).toBeGreaterThanOrEqual(Math.min(input.rules.keepImages, releases.length));
      // The rules alone (no eviction) delete a release only for being older than the newest N.
      for (const d of dels) {
        if (!d.reason.includes('evicted') && releases.some((r) => r.id === d.id)) {
          expect(d.reason).toBe(`older than the newest ${input.rules.keepImages} of myapp`);
        }
      }
    }),
  );
});

test('eviction meets its goal, or warns only when nothing more may go', () => {
  run(
    fc.property(hostArb, (input) => {
      const plan = planRetention(input);
      const max = input.rules.maxDiskUsage;
      const { fsTotalBytes: total, fsFreeBytes: free } = input.disk;
      const freeAfter = (free ?? 0) + plan.totalFrees;
      const over: boolean[] = [];
      if (max?.kind === 'bytes') over.push(plan.projectedDockerDataBytes > max.bytes);
      if (max?.kind === 'percent' && total !== undefined && free !== undefined) {
        over.push(total - freeAfter > (total * max.percent) / 100);
      }
      if (input.requiredFreeBytes !== undefined && free !== undefined)
        over.push(freeAfter < input.requiredFreeBytes);
      const stillOver = over.some(Boolean);
      const blockedWarnings = plan.warnings.filter((w) => / (over|short) after removing every image/.test(w));
      expect(blockedWarnings.length > 0).toBe(stillOver);
      if (stillOver) {
        // Nothing left that could go: every image that stays is protected or holds up one that stays.
        const gone = new Set(imageDeletions(plan).map((d) => d.id));
        const stays = input.images.filter((i) => !gone.has(i.id));
        const parents = new Set(stays.map((i) => i.parentId));
        for (const i of stays) expect(neverDelete(input, i) || parents.has(i.id)).toBe(true);
      }
    }),
  );
});

test('deterministic: the order of images, containers and history does not change the plan', () => {
  run(
    fc.property(hostArb, fc.nat(), (input, rot) => {
      const rotate = <T>(xs: T[]): T[] =>
        xs.length ? [...xs.slice(rot % xs.length), ...xs.slice(0, rot % xs.length)] : xs;
      const shuffled: RetentionInput = {
        ...input,
        images: rotate([...input.images].reverse()),
        containers: rotate(input.containers),
        history: rotate([...input.history].reverse()),
      };
      expect(planRetention(shuffled)).toEqual(planRetention(input));
    }),
  );
});
