// summarizeProgress over BuildKit's plain progress output, as Docker 20.10's built-in BuildKit and
// as newer buildx print it. The transcripts below follow what those versions really write.
import { summarizeProgress, type ProgressSummary } from '../../src/build/progress.js';

const SHA = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** Docker 20.10, DOCKER_BUILDKIT=1 docker build --progress plain: a warm build that succeeds. */
const DOCKER_20_10_OK = `#1 [internal] load build definition from Dockerfile
#1 ${SHA(1)}
#1 transferring dockerfile: 37B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 ${SHA(2)}
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/node:20-alpine
#3 ${SHA(3)}
#3 DONE 1.2s

#4 [1/6] FROM docker.io/library/node:20-alpine@${SHA(9)}
#4 ${SHA(4)}
#4 DONE 0.0s

#5 [internal] load build context
#5 ${SHA(5)}
#5 transferring context: 1.23kB done
#5 DONE 0.0s

#6 [2/6] WORKDIR /app
#6 ${SHA(6)}
#6 CACHED

#7 [3/6] COPY package*.json ./
#7 ${SHA(7)}
#7 CACHED

#8 [4/6] RUN npm ci --omit=dev
#8 ${SHA(8)}
#8 1.734 added 57 packages, and audited 58 packages in 1s
#8 1.735 found 0 vulnerabilities
#8 DONE 2.1s

#9 [5/6] COPY . .
#9 ${SHA(1)}
#9 DONE 0.1s

#10 [6/6] RUN echo "built $BUILD_TAG"
#10 ${SHA(2)}
#10 0.245 built 20261201093005-abcdef0
#10 DONE 0.3s

#11 exporting to image
#11 ${SHA(3)}
#11 exporting layers 0.1s done
#11 writing image ${SHA(4)} done
#11 naming to docker.io/library/myapp:20261201093005-abcdef0 done
#11 DONE 0.1s
`;

/** Docker 20.10: a RUN step that prints and then exits 3. */
const DOCKER_20_10_FAIL = `#1 [internal] load build definition from Dockerfile
#1 ${SHA(1)}
#1 transferring dockerfile: 180B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 ${SHA(2)}
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/alpine:3.19
#3 ${SHA(3)}
#3 DONE 0.8s

#4 [1/6] FROM docker.io/library/alpine:3.19@${SHA(9)}
#4 ${SHA(4)}
#4 resolve docker.io/library/alpine:3.19@${SHA(9)} done
#4 ${SHA(5)} 3.41MB / 3.41MB 0.3s done
#4 extracting ${SHA(5)} 0.1s done
#4 DONE 0.5s

#5 [internal] load build context
#5 ${SHA(5)}
#5 transferring context: 412B done
#5 DONE 0.0s

#6 [2/6] WORKDIR /app
#6 ${SHA(6)}
#6 DONE 0.0s

#7 [3/6] COPY . .
#7 ${SHA(7)}
#7 DONE 0.0s

#8 [4/6] RUN echo compiling && echo "error: module x not found" >&2 && exit 3
#8 ${SHA(8)}
#8 0.301 compiling
#8 0.302 error: module x not found
#8 ERROR: executor failed running [/bin/sh -c echo compiling && echo "error: module x not found" >&2 && exit 3]: exit code: 3
------
 > [4/6] RUN echo compiling && echo "error: module x not found" >&2 && exit 3:
#8 0.301 compiling
#8 0.302 error: module x not found
------
executor failed running [/bin/sh -c echo compiling && echo "error: module x not found" >&2 && exit 3]: exit code: 3
`;

/** buildx 0.12 (docker driver), named stages, the failing RUN prints nothing. */
const BUILDX_FAIL = `#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 412B done
#1 DONE 0.0s

#2 [internal] load metadata for docker.io/library/node:20-alpine
#2 DONE 0.6s

#3 [internal] load .dockerignore
#3 transferring context: 2B done
#3 DONE 0.0s

#4 [deps 1/4] FROM docker.io/library/node:20-alpine@${SHA(9)}
#4 resolve docker.io/library/node:20-alpine@${SHA(9)} done
#4 DONE 0.0s

#5 [internal] load build context
#5 transferring context: 2.05kB done
#5 DONE 0.0s

#6 [deps 2/4] WORKDIR /app
#6 CACHED

#7 [deps 3/4] COPY package.json package-lock.json ./
#7 CACHED

#8 [deps 4/4] RUN npm ci
#8 0.412 npm warn deprecated inflight@1.0.6: This module is not supported
#8 2.118 added 120 packages in 2s
#8 DONE 2.3s

#9 [runner 2/3] COPY --from=deps /app/node_modules ./node_modules
#9 DONE 0.2s

#10 [runner 3/3] RUN exit 3
#10 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
------
 > [runner 3/3] RUN exit 3:
------
Dockerfile:12
--------------------
  10 |     WORKDIR /app
  11 |     COPY --from=deps /app/node_modules ./node_modules
  12 | >>> RUN exit 3
  13 |
--------------------
ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
`;

function names(s: ProgressSummary): string[] {
  return s.steps.map((x) => x.name);
}

describe('summarizeProgress: Docker 20.10 built-in BuildKit', () => {
  it('counts the Dockerfile steps only: no [internal] steps, no FROM, no exporting', () => {
    const s = summarizeProgress(DOCKER_20_10_OK);
    expect(names(s)).toEqual([
      '[2/6] WORKDIR /app',
      '[3/6] COPY package*.json ./',
      '[4/6] RUN npm ci --omit=dev',
      '[5/6] COPY . .',
      '[6/6] RUN echo "built $BUILD_TAG"',
    ]);
    expect(s.steps.map((x) => x.id)).toEqual(['6', '7', '8', '9', '10']);
  });

  it('tells cached steps from executed ones', () => {
    const s = summarizeProgress(DOCKER_20_10_OK);
    expect(s.cached).toBe(2);
    expect(s.executed).toBe(3);
    expect(s.steps.map((x) => x.cached)).toEqual([true, true, false, false, false]);
    expect(s.steps.map((x) => x.done)).toEqual([false, false, true, true, true]);
    expect(s.failed).toBeUndefined();
  });

  it('reads each step time and its output without the timestamps (and not the sha256 lines)', () => {
    const s = summarizeProgress(DOCKER_20_10_OK);
    const npm = s.steps[2]!;
    expect(npm.seconds).toBe(2.1);
    expect(npm.output).toEqual([
      'added 57 packages, and audited 58 packages in 1s',
      'found 0 vulnerabilities',
    ]);
    expect(s.steps[3]!.seconds).toBe(0.1);
    expect(s.steps[3]!.output).toEqual([]);
    expect(s.steps[4]!.output).toEqual(['built 20261201093005-abcdef0']);
    expect(s.steps[0]!.seconds).toBeUndefined();
  });

  it('a failed RUN: the step, the executor error and its last output lines', () => {
    const s = summarizeProgress(DOCKER_20_10_FAIL);
    expect(names(s)).toEqual([
      '[2/6] WORKDIR /app',
      '[3/6] COPY . .',
      '[4/6] RUN echo compiling && echo "error: module x not found" >&2 && exit 3',
    ]);
    expect(s.failed).toEqual({
      step: '[4/6] RUN echo compiling && echo "error: module x not found" >&2 && exit 3',
      error:
        'executor failed running [/bin/sh -c echo compiling && echo "error: module x not found" >&2 && exit 3]: exit code: 3',
      lastLines: ['compiling', 'error: module x not found'],
    });
    // The failed step ran (it counts as executed) and is not done.
    expect(s.executed).toBe(3);
    expect(s.cached).toBe(0);
    expect(s.steps[2]!.done).toBe(false);
    expect(s.steps[2]!.error).toBe(s.failed!.error);
  });

  it('the ------ block is not read as step output (the step lines are not doubled)', () => {
    const s = summarizeProgress(DOCKER_20_10_FAIL);
    expect(s.steps[2]!.output).toEqual(['compiling', 'error: module x not found']);
  });

  it('CRLF line endings read the same', () => {
    const crlf = summarizeProgress(DOCKER_20_10_FAIL.replace(/\n/g, '\r\n'));
    expect(crlf).toEqual(summarizeProgress(DOCKER_20_10_FAIL));
  });
});

describe('summarizeProgress: buildx', () => {
  it('named stages [deps 2/4] count; their FROM and [internal] steps do not', () => {
    const s = summarizeProgress(BUILDX_FAIL);
    expect(names(s)).toEqual([
      '[deps 2/4] WORKDIR /app',
      '[deps 3/4] COPY package.json package-lock.json ./',
      '[deps 4/4] RUN npm ci',
      '[runner 2/3] COPY --from=deps /app/node_modules ./node_modules',
      '[runner 3/3] RUN exit 3',
    ]);
    expect(s.cached).toBe(2);
    expect(s.executed).toBe(3);
  });

  it('the newer "did not complete successfully" error, and no output lines invented', () => {
    const s = summarizeProgress(BUILDX_FAIL);
    expect(s.failed).toEqual({
      step: '[runner 3/3] RUN exit 3',
      error: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
      lastLines: [],
    });
  });

  it('the Dockerfile excerpt after the block is not output of any step', () => {
    const s = summarizeProgress(BUILDX_FAIL);
    for (const step of s.steps) for (const l of step.output) expect(l).not.toMatch(/>>>|^-+$/);
  });

  it('a failing step with output: its own last lines', () => {
    const text = `#12 [build 5/7] RUN npm run build
#12 0.512 > app@1.0.0 build
#12 0.513 > tsc -p .
#12 4.201 src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.
#12 ERROR: process "/bin/sh -c npm run build" did not complete successfully: exit code: 2
------
 > [build 5/7] RUN npm run build:
0.512 > app@1.0.0 build
0.513 > tsc -p .
4.201 src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.
------
`;
    const s = summarizeProgress(text);
    expect(s.failed).toEqual({
      step: '[build 5/7] RUN npm run build',
      error: 'process "/bin/sh -c npm run build" did not complete successfully: exit code: 2',
      lastLines: [
        '> app@1.0.0 build',
        '> tsc -p .',
        "src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      ],
    });
  });

  it('interleaved steps: a repeated header line is neither output nor a new step', () => {
    const text = `#8 [deps 4/4] RUN npm ci
#8 0.4 a
#9 [assets 2/3] RUN make css
#9 0.5 css done
#8 [deps 4/4] RUN npm ci
#8 1.2 b
#9 DONE 0.6s
#8 DONE 1.3s
`;
    const s = summarizeProgress(text);
    expect(names(s)).toEqual(['[deps 4/4] RUN npm ci', '[assets 2/3] RUN make css']);
    expect(s.steps[0]!.output).toEqual(['a', 'b']);
    expect(s.steps[1]!.output).toEqual(['css done']);
    expect(s.executed).toBe(2);
  });

  it('a step canceled by another step failing neither ran nor failed', () => {
    const text = `#8 [deps 2/3] RUN sleep 30
#9 [build 2/4] RUN exit 1
#9 ERROR: process "/bin/sh -c exit 1" did not complete successfully: exit code: 1
#8 CANCELED
------
 > [build 2/4] RUN exit 1:
------
`;
    const s = summarizeProgress(text);
    expect(s.executed).toBe(1);
    expect(s.cached).toBe(0);
    expect(s.failed?.step).toBe('[build 2/4] RUN exit 1');
    expect(s.steps[0]!.error).toBeUndefined();
    expect(s.steps[0]!.done).toBe(false);
  });

  it('several platforms at once: [linux/arm64 stage 2/4] steps count, per platform', () => {
    const text = `#5 [linux/amd64 internal] load metadata for docker.io/library/golang:1.23
#5 DONE 0.9s

#6 [linux/arm64 internal] load metadata for docker.io/library/golang:1.23
#6 DONE 0.9s

#7 [linux/amd64 builder 1/4] FROM docker.io/library/golang:1.23@${SHA(7)}
#7 DONE 0.0s

#8 [linux/arm64 builder 1/4] FROM docker.io/library/golang:1.23@${SHA(7)}
#8 DONE 0.0s

#9 [linux/amd64 builder 2/4] WORKDIR /src
#9 CACHED

#10 [linux/arm64 builder 2/4] WORKDIR /src
#10 CACHED

#11 [linux/arm64->amd64 builder 3/4] RUN go build -o /out/app .
#11 DONE 21.4s

#12 [linux/arm/v7 4/4] RUN echo ok
#12 0.043 ok
#12 DONE 0.1s
`;
    const s = summarizeProgress(text);
    expect(names(s)).toEqual([
      '[linux/amd64 builder 2/4] WORKDIR /src',
      '[linux/arm64 builder 2/4] WORKDIR /src',
      '[linux/arm64->amd64 builder 3/4] RUN go build -o /out/app .',
      '[linux/arm/v7 4/4] RUN echo ok',
    ]);
    expect(s.cached).toBe(2);
    expect(s.executed).toBe(2);
  });
});

describe('summarizeProgress: the failed step', () => {
  it('keeps at most the last 10 output lines of the step', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `#7 ${(i / 10).toFixed(3)} line ${i + 1}`);
    const text = [
      '#7 [3/4] RUN ./long.sh',
      ...lines,
      '#7 ERROR: process "/bin/sh -c ./long.sh" did not complete successfully: exit code: 1',
    ].join('\n');
    const s = summarizeProgress(text);
    expect(s.failed!.lastLines).toEqual(Array.from({ length: 10 }, (_, i) => `line ${51 + i}`));
  });

  it('fewer than 10 lines: all of them, in order', () => {
    const text = '#7 [3/4] RUN x\n#7 0.1 one\n#7 0.2 two\n#7 0.3 three\n#7 ERROR: boom\n';
    expect(summarizeProgress(text).failed).toEqual({
      step: '[3/4] RUN x',
      error: 'boom',
      lastLines: ['one', 'two', 'three'],
    });
  });

  it('no output in the step stream: the output lines of its ------ block, without the header or timestamps', () => {
    // buildx 0.10 printed the block's lines under #0; the step's own stream had none.
    const text = `#7 [2/2] RUN apt update -qq && apt install -y mysql-client
#7 ERROR: process "/bin/sh -c apt update -qq && apt install -y mysql-client" did not complete successfully: exit code: 100
------
 > [2/2] RUN apt update -qq && apt install -y mysql-client:
#0 7.640 
#0 7.952 Package mysql-client is not available, but is referred to by another package.
#0 7.996 E: Package 'mysql-client' has no installation candidate
------
`;
    const s = summarizeProgress(text);
    expect(s.failed!.lastLines).toEqual([
      'Package mysql-client is not available, but is referred to by another package.',
      "E: Package 'mysql-client' has no installation candidate",
    ]);
  });

  it('block fallback: the last 10 lines, Docker 20.10 and buildx prefixes alike', () => {
    const body = Array.from({ length: 14 }, (_, i) => (i % 2 ? `#9 1.${i} out ${i}` : `1.${i} out ${i}`));
    const text = [
      '#9 [5/6] RUN make',
      '#9 ERROR: exit code: 2',
      '------',
      ' > [5/6] RUN make:',
      ...body,
      '------',
    ].join('\n');
    expect(summarizeProgress(text).failed!.lastLines).toEqual(
      Array.from({ length: 10 }, (_, i) => `out ${i + 4}`),
    );
  });

  it('block fallback with several blocks: the block about the failed step', () => {
    const text = `#8 [a 2/2] RUN exit 1
#9 [b 2/2] RUN exit 2
#8 ERROR: process "/bin/sh -c exit 1" did not complete successfully: exit code: 1
#9 ERROR: process "/bin/sh -c exit 2" did not complete successfully: exit code: 2
------
 > [b 2/2] RUN exit 2:
1.0 from b
------
------
 > [a 2/2] RUN exit 1:
1.0 from a
------
`;
    const s = summarizeProgress(text);
    expect(s.failed!.step).toBe('[a 2/2] RUN exit 1');
    expect(s.failed!.lastLines).toEqual(['from a']);
  });

  it('an [internal] or FROM failure is reported when no Dockerfile step failed', () => {
    const internal = `#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 2B done
#1 DONE 0.0s

#2 [internal] load metadata for docker.io/library/nope:latest
#2 ERROR: docker.io/library/nope:latest: not found
------
 > [internal] load metadata for docker.io/library/nope:latest:
------
`;
    const s = summarizeProgress(internal);
    expect(s.steps).toEqual([]);
    expect(s.executed).toBe(0);
    expect(s.failed).toEqual({
      step: '[internal] load metadata for docker.io/library/nope:latest',
      error: 'docker.io/library/nope:latest: not found',
      lastLines: [],
    });

    const from = `#4 [1/3] FROM docker.io/library/node:99@${SHA(4)}
#4 ERROR: failed to resolve source metadata for docker.io/library/node:99: not found
`;
    const f = summarizeProgress(from);
    expect(f.steps).toEqual([]);
    expect(f.failed?.step).toBe(`[1/3] FROM docker.io/library/node:99@${SHA(4)}`);
    expect(f.failed?.error).toBe(
      'failed to resolve source metadata for docker.io/library/node:99: not found',
    );
  });

  it('an output line that says ERROR is output, not the step error', () => {
    const text = '#7 [2/3] RUN apk add python\n#7 0.502 ERROR: unable to select packages:\n#7 DONE 0.6s\n';
    const s = summarizeProgress(text);
    expect(s.failed).toBeUndefined();
    expect(s.steps[0]!.output).toEqual(['ERROR: unable to select packages:']);
    expect(s.executed).toBe(1);
  });
});

describe('summarizeProgress: edge input', () => {
  it('empty or non-BuildKit text: no steps, nothing failed', () => {
    for (const t of [
      '',
      '\n\n',
      'Sending build context to Docker daemon  2.048kB\nStep 1/3 : FROM alpine\n',
    ]) {
      expect(summarizeProgress(t)).toEqual({ steps: [], executed: 0, cached: 0 });
    }
  });

  it('a step that started but neither finished nor failed is not counted as executed', () => {
    const s = summarizeProgress('#6 [2/3] RUN sleep 100\n#6 0.1 started\n');
    expect(s.steps).toHaveLength(1);
    expect(s.executed).toBe(0);
    expect(s.cached).toBe(0);
  });
});
