// cacheBustPoint (where the build tag starts rerunning steps) and finalStageBase (what the final
// stage is really built on).
import { readFileSync } from 'node:fs';
import { cacheBustPoint, finalStageBase } from '../../src/advise/rules.js';

const FIXTURES = new URL('../fixtures/advise/', import.meta.url);
const read = (name: string) => readFileSync(new URL(`${name}.Dockerfile`, FIXTURES), 'utf8');
const OPTS = { buildTagArg: 'BUILD_TAG' };
const lines = (...l: string[]) => l.join('\n') + '\n';

describe('cacheBustPoint', () => {
  test('declared first: the install and everything after it rerun', () => {
    expect(cacheBustPoint(read('cache-bust-early'), OPTS)).toEqual({
      argLine: 4,
      firstUseLine: 6,
      stepsAfter: 2,
      expensiveAfter: [{ line: 6, instruction: 'RUN npm ci --omit=dev' }],
    });
  });

  test('declared last: only metadata uses it, nothing reruns', () => {
    expect(cacheBustPoint(read('clean-multistage'), OPTS)).toEqual({
      argLine: 24,
      firstUseLine: 25,
      stepsAfter: 0,
      expensiveAfter: [],
    });
  });

  test('the field-notes pattern: ENV plus RUN echo after the build reruns one cheap step', () => {
    const text = lines(
      'FROM node:20-alpine',
      'RUN npm ci && npm run build',
      'ARG BUILD_TAG',
      'ENV BUILD_TAG=$BUILD_TAG',
      'RUN echo "Build ID: $BUILD_TAG" > /build_info.txt',
    );
    expect(cacheBustPoint(text, OPTS)).toEqual({
      argLine: 3,
      firstUseLine: 4,
      stepsAfter: 1,
      expensiveAfter: [],
    });
  });

  test('a RUN after the ARG is a use even without $BUILD_TAG: Docker passes ARGs to RUN', () => {
    const text = lines('FROM golang:1.22', 'ARG BUILD_TAG', 'COPY . .', 'RUN go build -o /app', 'COPY x /x');
    expect(cacheBustPoint(text, OPTS)).toEqual({
      argLine: 2,
      firstUseLine: 4,
      stepsAfter: 2,
      expensiveAfter: [{ line: 4, instruction: 'RUN go build -o /app' }],
    });
  });

  test('an explicit use in COPY counts, with continuation lines', () => {
    const text = lines(
      'FROM alpine:3.20',
      'ARG BUILD_TAG',
      'COPY dist-${BUILD_TAG}/ /app/',
      'RUN apk add \\',
      '  --no-cache curl',
    );
    expect(cacheBustPoint(text, OPTS)).toEqual({
      argLine: 2,
      firstUseLine: 3,
      stepsAfter: 2,
      expensiveAfter: [{ line: 4, instruction: 'RUN apk add --no-cache curl' }],
    });
  });

  test('only the final stage (the target when given) is measured', () => {
    const text = lines(
      'FROM node:20-alpine AS build',
      'ARG BUILD_TAG',
      'RUN npm ci',
      'FROM node:20-alpine AS app',
      'COPY --from=build /app /app',
    );
    expect(cacheBustPoint(text, OPTS)).toEqual({ stepsAfter: 0, expensiveAfter: [] });
    expect(cacheBustPoint(text, { ...OPTS, target: 'build' })).toEqual({
      argLine: 2,
      firstUseLine: 3,
      stepsAfter: 1,
      expensiveAfter: [{ line: 3, instruction: 'RUN npm ci' }],
    });
  });

  test('a global ARG is not in the stage; ARG A B declares both; unused means nothing reruns', () => {
    expect(cacheBustPoint(lines('ARG BUILD_TAG', 'FROM alpine:3.20', 'RUN true'), OPTS)).toEqual({
      stepsAfter: 0,
      expensiveAfter: [],
    });
    expect(cacheBustPoint(lines('FROM alpine:3.20', 'ARG A=1 BUILD_TAG', 'RUN true'), OPTS).argLine).toBe(2);
    expect(cacheBustPoint(lines('FROM alpine:3.20', 'ARG BUILD_TAG', 'COPY a /a'), OPTS)).toEqual({
      argLine: 2,
      stepsAfter: 0,
      expensiveAfter: [],
    });
  });

  test('expensive: installs and compiles, not echo or COPY', () => {
    const steps = [
      'RUN yarn install --frozen-lockfile',
      'RUN pnpm install',
      'RUN pip install -r requirements.txt',
      'RUN apt-get install -y curl',
      'RUN go mod download',
      'RUN cargo build --release',
      'RUN ./mvnw -B package',
      'RUN gradle build',
      'RUN make -j4',
      'RUN echo done',
      'COPY . .',
    ];
    const b = cacheBustPoint(lines('FROM alpine:3.20', 'ARG BUILD_TAG', ...steps), OPTS);
    expect(b.stepsAfter).toBe(steps.length);
    expect(b.expensiveAfter.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('finalStageBase', () => {
  test('ARG defaults substituted, build args override them', () => {
    expect(finalStageBase(read('clean-multistage'), OPTS)).toBe('node:20.11.1-alpine');
    expect(
      finalStageBase(read('clean-multistage'), { ...OPTS, buildArgs: [['NODE_VERSION', '22.3.0']] }),
    ).toBe('node:22.3.0-alpine');
  });

  test('FROM <stage> chains are followed to the external image', () => {
    const text = lines(
      'FROM node:20-alpine AS base',
      'FROM base AS deps',
      'FROM DEPS AS runner',
      'USER node',
    );
    expect(finalStageBase(text, OPTS)).toBe('node:20-alpine');
  });

  test('scratch, directly or at the end of a chain, is undefined', () => {
    expect(finalStageBase(lines('FROM golang:1.22 AS build', 'FROM scratch'), OPTS)).toBeUndefined();
    expect(finalStageBase(lines('FROM scratch AS base', 'FROM base'), OPTS)).toBeUndefined();
  });

  test('the target picks the stage', () => {
    const text = lines('FROM node:20-alpine AS dev', 'FROM gcr.io/distroless/nodejs20-debian12 AS prod');
    expect(finalStageBase(text, OPTS)).toBe('gcr.io/distroless/nodejs20-debian12');
    expect(finalStageBase(text, { ...OPTS, target: 'dev' })).toBe('node:20-alpine');
  });

  test('variable forms: ${V:-word}, ${V:+word}, $V; a value-less $V stays as written', () => {
    const pre = 'ARG REG=ghcr.io/acme\nARG SUFFIX\nARG V\n';
    expect(finalStageBase(pre + 'FROM $REG/app:${V:-1.0}${SUFFIX:+-$SUFFIX}', OPTS)).toBe(
      'ghcr.io/acme/app:1.0',
    );
    expect(
      finalStageBase(pre + 'FROM $REG/app:${V:-1.0}${SUFFIX:+-slim}', {
        ...OPTS,
        buildArgs: [
          ['V', '2.1'],
          ['SUFFIX', 'x'],
        ],
      }),
    ).toBe('ghcr.io/acme/app:2.1-slim');
    expect(finalStageBase(pre + 'FROM node:$V', OPTS)).toBe('node:$V');
    expect(finalStageBase(pre + 'FROM node:$V', { ...OPTS, buildArgs: [['V', '20']] })).toBe('node:20');
  });

  test('build args apply only to declared ARGs; an ARG default may use an earlier ARG', () => {
    const text = 'ARG MAJOR=20\nARG BASE=node:${MAJOR}-alpine\nFROM $BASE';
    expect(finalStageBase(text, { ...OPTS, buildArgs: [['UNDECLARED', 'x']] })).toBe('node:20-alpine');
    expect(finalStageBase(text, { ...OPTS, buildArgs: [['MAJOR', '22']] })).toBe('node:22-alpine');
  });

  test('a stage name in a variable is still a stage', () => {
    const text = lines('ARG FROM_STAGE=base', 'FROM python:3.12-slim AS base', 'FROM ${FROM_STAGE}');
    expect(finalStageBase(text, OPTS)).toBe('python:3.12-slim');
  });

  test('no FROM at all is undefined', () => {
    expect(finalStageBase('', OPTS)).toBeUndefined();
  });
});
