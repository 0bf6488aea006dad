// How long the retention planner takes on a crowded host: 1,000 images sharing layers from a pool,
// 200 containers. The rules keep almost everything and the disk limit is out of reach, so the
// least-recently-used eviction (the costly part) runs through every image it may take.
// Fails (exit 1) when the median run is over the budget.
import { planRetention, type HostImage, type RetentionInput } from '../src/retention/plan.js';

const IMAGES = 1000;
const CONTAINERS = 200;
const RUNS = 5;
const BUDGET_MS = 1000;
const REPO = 'ghcr.io/acme/myapp';
const MB = 1_000_000;

// A fixed-seed generator: the same host every run, so timings compare.
let seed = 42;
const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const int = (n: number): number => Math.floor(rand() * n);

function host(): RetentionInput {
  const pool = Array.from({ length: 3000 }, (_, i) => ({
    chainId: `sha256:l${i}`,
    size: (1 + int(80)) * MB,
  }));
  const bases = Array.from({ length: 8 }, (_, b) => pool.slice(b * 3, b * 3 + 3)); // a few shared OS stacks
  const images: HostImage[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const kind = rand();
    const app = kind < 0.3;
    const dangling = !app && kind < 0.45;
    const layers = [...bases[int(bases.length)]!];
    for (let k = 3 + int(8); k > 0; k--) layers.push(pool[24 + int(pool.length - 24)]!);
    layers.push({ chainId: `sha256:own${i}`, size: (1 + int(20)) * MB });
    const created = 1_700_000_000 + i * 600;
    images.push({
      id: `sha256:${((i + 1) * 2_654_435_761).toString(16).padStart(16, '0').repeat(4)}`,
      repoTags: app ? [`${REPO}:b${i}`] : dangling ? [] : [`vendor/svc${i % 97}:v${i}`],
      created,
      size: layers.reduce((s, l) => s + l.size, 0),
      labels: app ? { 'dev.bluegreen.app': 'myapp' } : i % 13 === 0 ? { keep: 'true' } : {},
      layers,
      ...(i > 0 && rand() < 0.2 ? { parentId: images[int(i)]!.id } : {}),
      ...(rand() < 0.5 ? { lastUsed: created + int(86_400 * 30) } : {}),
    });
  }
  const appImages = images.filter((im) => im.repoTags[0]?.startsWith(REPO));
  const unique = new Map(images.flatMap((im) => im.layers.map((l) => [l.chainId, l.size] as const)));
  const data = [...unique.values()].reduce((a, b) => a + b, 0);
  return {
    app: 'myapp',
    repository: REPO,
    appLabel: 'dev.bluegreen.app',
    images,
    containers: Array.from({ length: CONTAINERS }, (_, c) => ({
      id: `c${c}`,
      names: [`/svc-${c}`],
      imageId: images[int(IMAGES)]!.id,
      state: c % 3 === 0 ? 'exited' : 'running',
      labels: {},
    })),
    buildCache: Array.from({ length: 300 }, (_, r) => ({
      id: `r${r}`,
      size: int(50) * MB,
      createdAt: 1_700_000_000 + r * 1000,
      inUse: r % 10 === 0,
      shared: r % 7 === 0,
      type: 'regular',
    })),
    disk: { dockerDataBytes: data, fsTotalBytes: data * 2, fsFreeBytes: data },
    activeImageId: appImages.at(-1)!.id,
    rollbackImageId: appImages.at(-2)!.id,
    history: appImages.map((im, k) => ({ buildTag: `b${k}`, imageId: im.id, at: im.created + 60 })),
    rules: {
      keepImages: 500,
      pruneDangling: false,
      pruneBuildCache: 'all',
      pruneScope: 'app',
      maxDiskUsage: { kind: 'percent', percent: 20 },
      protectLabels: [['keep', 'true']],
    },
    now: 1_700_000_000 + IMAGES * 600,
    requiredFreeBytes: data,
  };
}

const input = host();
planRetention(input); // warm-up: let the JIT see the code once
const times: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now();
  planRetention(input);
  times.push(performance.now() - t0);
}
const median = [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
console.log(
  `retention planner: ${IMAGES} images, ${CONTAINERS} containers: ${median.toFixed(1)} ms (median of ${RUNS}), budget ${BUDGET_MS} ms`,
);
if (median > BUDGET_MS) process.exitCode = 1;
