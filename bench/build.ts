// Build benchmark: the same app built cold (no cache) and warm (after a source-only change), with
// a heavy dependency layer, through the bundled action as the runner runs it. Target warm/cold ≤ 0.1.
import { runAction } from '../__tests__/harness/runner.js';
import { runnerEnv } from '../__tests__/harness/sandbox.js';
import { appWorkspace, nextSha } from '../__tests__/harness/workspace.js';

const ws = appWorkspace();
// The "dependency install": CPU-bound work (compressing 400 MB) that leaves a 20 MB layer, the
// way npm ci or pip install burn minutes and leave node_modules behind.
ws.write(
  'Dockerfile',
  [
    'FROM bgsb/busybox:1',
    'WORKDIR /app',
    'COPY deps.txt ./',
    'RUN i=0; while [ $i -lt 8 ]; do head -c 50000000 /dev/zero | gzip -9 | sha256sum >> /app/deps.sums; i=$((i+1)); done; head -c 20000000 /dev/urandom > /app/deps.bin',
    'COPY src/ /www/',
    'ARG BUILD_TAG=dev',
    'RUN echo "$BUILD_TAG" > /www/version.txt',
    '',
  ].join('\n'),
);

async function timed(label: string, inputs: Record<string, string>) {
  const t0 = Date.now();
  const r = await runAction(
    { command: 'build', image: 'bgbench-build', 'build-network': 'host', ...inputs },
    { env: runnerEnv(), workspace: ws.dir, sha: nextSha() },
  );
  const wall = (Date.now() - t0) / 1000;
  if (r.main.exitCode !== 0) throw new Error(`${label} build failed:\n${r.log}`);
  const m =
    /built \S+ \(\S+\) for \S+ in ([\d.]+) (ms|s): .*?, (\d+) of (\d+) step\(s\) run, (\d+) cached/.exec(
      r.main.log,
    );
  const build = m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : wall;
  return { label, build, wall, steps: m ? `${m[3]} of ${m[4]} run, ${m[5]} cached` : '?' };
}

ws.setDeps(20, `bench ${Date.now()}`);
ws.setPage('cold');
const cold = await timed('cold (no-cache: true)', { 'no-cache': 'true' });
ws.setPage('warm: a source-only change');
const warm = await timed('warm (source-only change)', {});
console.log(`\nbuild of a fixture with a heavy dependency layer, through the bundled action (BuildKit)`);
console.log(`${'build'.padEnd(30)}${'build step (s)'.padEnd(16)}${'whole run (s)'.padEnd(16)}steps`);
for (const r of [cold, warm])
  console.log(
    `${r.label.padEnd(30)}${r.build.toFixed(2).padEnd(16)}${r.wall.toFixed(2).padEnd(16)}${r.steps}`,
  );
const ratio = warm.build / cold.build;
console.log(`warm/cold = ${ratio.toFixed(3)} (target ≤ 0.1): ${ratio <= 0.1 ? 'met' : 'MISSED'}`);
process.exitCode = ratio <= 0.1 ? 0 : 1;
