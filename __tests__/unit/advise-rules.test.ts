// The rules against the Dockerfile shapes that trip naive line matching: continuations,
// heredocs, exec form, lowercase, comments, stage references, ARGs in FROM, targets.
import { adviseDockerfile, type AdviseOptions } from '../../src/advise/rules.js';

const OPTS: AdviseOptions = { buildTagArg: 'BUILD_TAG' };
// A tail that keeps no-user quiet, so each test sees only the rule it is about.
const USER = 'USER nobody';
const lines = (...l: string[]) => l.join('\n') + '\n';
/** [rule, line] of every finding, or only of one rule. */
function found(text: string, rule?: string, opts: AdviseOptions = OPTS): Array<[string, number]> {
  return adviseDockerfile(text, opts)
    .filter((f) => rule === undefined || f.rule === rule)
    .map((f) => [f.rule, f.line]);
}

describe('parsing', () => {
  test('continuations, with a comment line inside, are one RUN', () => {
    const text = lines(
      'FROM debian:12-slim',
      'RUN apt-get update && \\',
      '    # the tools the healthcheck needs',
      '    apt-get install -y --no-install-recommends curl \\',
      '    && rm -rf /var/lib/apt/lists/*',
      USER,
    );
    expect(found(text)).toEqual([]);
    const [f] = adviseDockerfile(text.replace(/ *&& rm -rf \/var\/lib\/apt\/lists\/\*/, ' && true'), OPTS);
    expect([f?.rule, f?.line, f?.endLine]).toEqual(['apt-lists-not-removed', 2, 5]);
  });

  test('lowercase instructions are instructions', () => {
    const text = lines('from alpine:3.20', 'run apk add curl', 'user root');
    expect(found(text)).toEqual([
      ['apk-no-cache', 2],
      ['no-user', 3],
    ]);
  });

  test('comments and parser directives are not instructions', () => {
    const text = lines(
      '# syntax=docker/dockerfile:1',
      '# RUN apk add curl',
      'FROM alpine:3.20',
      '# FROM nginx',
      USER,
    );
    expect(found(text)).toEqual([]);
  });

  test('the escape directive changes the continuation character', () => {
    const text = lines('# escape=`', 'FROM alpine:3.20', 'RUN apk add `', '    curl', USER);
    expect(adviseDockerfile(text, OPTS).map((f) => [f.rule, f.line, f.endLine])).toEqual([
      ['apk-no-cache', 3, 4],
    ]);
  });

  test('exec form, and sh -c inside it', () => {
    expect(found(lines('FROM alpine:3.20', 'RUN ["apk", "add", "curl"]', USER))).toEqual([
      ['apk-no-cache', 2],
    ]);
    expect(found(lines('FROM alpine:3.20', 'RUN ["apk", "add", "--no-cache", "curl"]', USER))).toEqual([]);
    expect(found(lines('FROM debian:12', 'RUN ["/bin/sh", "-c", "apt-get update"]', USER))).toEqual([
      ['apt-update-alone', 2],
    ]);
  });

  test('a heredoc body is the script', () => {
    const text = lines(
      'FROM debian:12-slim',
      'RUN <<EOF',
      'apt-get update',
      'apt-get install -y curl',
      'EOF',
      USER,
    );
    expect(found(text)).toEqual([['apt-lists-not-removed', 2]]);
    expect(
      found(text.replace('apt-get install -y curl', 'apt-get install -y curl\nrm -rf /var/lib/apt/lists/*')),
    ).toEqual([]);
  });

  test('a heredoc fed to another program is data, not shell', () => {
    const text = lines('FROM python:3.12-slim', 'RUN python3 <<EOF', 'print("apt-get update")', 'EOF', USER);
    expect(found(text)).toEqual([]);
  });

  test('wrappers and assignments before the program do not hide it', () => {
    const text = lines(
      'FROM debian:12-slim',
      'RUN DEBIAN_FRONTEND=noninteractive sudo -E /usr/bin/apt-get -o Acquire::Retries=3 install -y curl',
      USER,
    );
    expect(found(text)).toEqual([['apt-lists-not-removed', 2]]);
  });
});

describe('base-latest', () => {
  const one = (from: string, pre = '') => found(lines(pre, from, USER), 'base-latest');

  test('no tag and :latest are flagged, a version tag is not', () => {
    expect(one('FROM node')).toEqual([['base-latest', 2]]);
    expect(one('FROM node:latest')).toEqual([['base-latest', 2]]);
    expect(one('FROM ghcr.io/acme/app:latest AS base')).toEqual([['base-latest', 2]]);
    expect(one('FROM node:20.11-alpine')).toEqual([]);
  });

  test('a registry port is not a tag', () => {
    expect(one('FROM localhost:5000/app')).toEqual([['base-latest', 2]]);
    expect(one('FROM localhost:5000/app:1.2')).toEqual([]);
  });

  test('scratch, digests and --platform', () => {
    expect(one('FROM scratch')).toEqual([]);
    expect(one('FROM node@sha256:' + 'a'.repeat(64))).toEqual([]);
    expect(one('FROM --platform=linux/amd64 node')).toEqual([['base-latest', 2]]);
  });

  test('references to earlier stages are not images, case-insensitively', () => {
    const text = lines('FROM node:20-alpine AS Build', 'RUN true', 'FROM build', 'FROM BUILD AS again', USER);
    expect(found(text, 'base-latest')).toEqual([]);
    // A later stage's name does not count: FROM would pull an image of that name.
    expect(found(lines('FROM later', 'FROM node:20 AS later', USER), 'base-latest')).toEqual([
      ['base-latest', 1],
    ]);
  });

  test('ARGs in FROM are substituted with their defaults', () => {
    expect(one('FROM node:${TAG}', 'ARG TAG=latest')).toEqual([['base-latest', 2]]);
    expect(one('FROM $BASE', 'ARG BASE=node')).toEqual([['base-latest', 2]]);
    expect(one('FROM ${BASE}:20', 'ARG BASE=node')).toEqual([]);
    expect(one('FROM node:${TAG:-20}', 'ARG TAG')).toEqual([]);
  });

  test('an ARG with no default is unknown until build time: no advice', () => {
    expect(one('FROM node:$TAG', 'ARG TAG')).toEqual([]);
    expect(one('FROM $BASE')).toEqual([]);
  });
});

describe('cache-bust-early', () => {
  test('flags the ARG line in a non-final stage that is built', () => {
    const text = lines(
      'FROM node:20-alpine AS build',
      'ARG BUILD_TAG',
      'RUN npm ci',
      'RUN npm run build',
      'FROM node:20-alpine',
      'COPY --from=build /app/dist /app/dist',
      USER,
    );
    const [f] = adviseDockerfile(text, OPTS);
    expect([f?.rule, f?.line]).toEqual(['cache-bust-early', 2]);
    expect(f?.title).toContain('2 expensive step(s) (line 3, 4): every deploy reruns 2 build step(s)');
  });

  test('the arg name comes from the options', () => {
    const text = lines('FROM node:20-alpine', 'ARG VERSION', 'RUN npm ci --omit=dev', USER);
    expect(found(text, 'cache-bust-early')).toEqual([]);
    expect(found(text, 'cache-bust-early', { buildTagArg: 'VERSION' })).toEqual([['cache-bust-early', 2]]);
  });

  test('an ARG after the expensive steps, or a cheap step after it, is fine', () => {
    const text = lines(
      'FROM node:20-alpine',
      'RUN npm ci --omit=dev',
      'ARG BUILD_TAG',
      'RUN echo "$BUILD_TAG" > /build_info.txt',
      USER,
    );
    expect(found(text)).toEqual([]);
  });

  test('stages after the target are never built', () => {
    const text = lines(
      'FROM node:20-alpine AS app',
      USER,
      'FROM node:20-alpine AS tools',
      'ARG BUILD_TAG',
      'RUN npm ci',
      USER,
    );
    expect(found(text, 'cache-bust-early', { ...OPTS, target: 'app' })).toEqual([]);
    expect(found(text, 'cache-bust-early')).toEqual([['cache-bust-early', 4]]);
  });
});

describe('copy-all-before-install', () => {
  test('. and ./ sources, COPY and ADD, any destination', () => {
    for (const copy of ['COPY . .', 'COPY ./ /app', 'COPY --chown=node:node . /app/', 'ADD . .']) {
      const text = lines('FROM node:20-alpine', 'WORKDIR /app', copy, 'RUN npm ci --omit=dev', USER);
      expect(found(text, 'copy-all-before-install')).toEqual([['copy-all-before-install', 3]]);
    }
  });

  test('copying from a stage, copying a subdirectory, or installing first is fine', () => {
    for (const copy of ['COPY --from=deps . .', 'COPY src/ ./src/', 'COPY .npmrc .']) {
      const text = lines('FROM node:20-alpine', copy, 'RUN npm ci --omit=dev', USER);
      expect(found(text, 'copy-all-before-install')).toEqual([]);
    }
  });

  test('a heredoc COPY copies its body, not the context', () => {
    const text = lines(
      'FROM node:20-alpine',
      'COPY <<EOF /app/run.sh',
      'cp . .',
      'EOF',
      'RUN npm ci --omit=dev',
      USER,
    );
    expect(found(text)).toEqual([]);
  });

  test('only an install in the same stage counts', () => {
    const text = lines(
      'FROM node:20-alpine AS src',
      'COPY . .',
      'FROM node:20-alpine',
      'RUN npm ci --omit=dev',
      USER,
    );
    expect(found(text, 'copy-all-before-install')).toEqual([]);
  });

  test('go mod download and apt-get install are installs; pip install . needs the sources', () => {
    const go = lines('FROM golang:1.22', 'COPY . .', 'RUN go mod download', USER);
    expect(adviseDockerfile(go, OPTS)[0]?.fix).toBe(
      'COPY go.mod go.sum first, run the install, then `COPY . .`',
    );
    const apt = lines(
      'FROM debian:12',
      'COPY . .',
      'RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*',
      USER,
    );
    expect(adviseDockerfile(apt, OPTS)[0]?.fix).toMatch(/^Move the apt package install above `COPY \. \.`/);
    expect(found(lines('FROM python:3.12', 'COPY . .', 'RUN pip install .', USER))).toEqual([]);
  });
});

describe('apt and apk', () => {
  test('a cache mount keeps the lists out of the layer', () => {
    const text = lines(
      'FROM debian:12',
      'RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update && apt-get install -y curl',
      USER,
    );
    expect(found(text)).toEqual([]);
  });

  test('apt-get update with upgrade in the same RUN is not alone; apt update alone is', () => {
    expect(found(lines('FROM debian:12', 'RUN apt-get update && apt-get -y dist-upgrade', USER))).toEqual([]);
    expect(found(lines('FROM debian:12', 'RUN apt update', USER))).toEqual([['apt-update-alone', 2]]);
  });

  test('apk: --no-cache or removing /var/cache/apk is enough; apk update does not count as add', () => {
    expect(found(lines('FROM alpine:3.20', 'RUN apk add --no-cache curl', USER))).toEqual([]);
    expect(
      found(lines('FROM alpine:3.20', 'RUN apk update && apk add curl && rm -rf /var/cache/apk/*', USER)),
    ).toEqual([]);
    expect(found(lines('FROM alpine:3.20', 'RUN apk update', USER))).toEqual([]);
  });
});

describe('add-local', () => {
  test.each([
    'ADD https://example.com/a.txt /a.txt',
    'ADD git@github.com:acme/repo.git /src',
    'ADD app.tar /app',
    'ADD app.tar.gz /app',
    'ADD app.tgz /app',
    'ADD app.tar.xz /app',
    'ADD app.tar.bz2 /app',
    'ADD --checksum=sha256:abc https://example.com/a /a',
    'ADD $ARCHIVE /app',
    'ADD <<EOF /etc/motd\nhello .\nEOF',
  ])('%s is what ADD is for (or cannot be known)', (add) => {
    expect(found(lines('FROM alpine:3.20', add, USER))).toEqual([]);
  });

  test.each(['ADD app.js /app/', 'ADD ["config", "/etc/app/"]', 'add --chown=1:1 a b /dst/'])(
    '%s is a COPY',
    (add) => {
      expect(found(lines('FROM alpine:3.20', add, USER))).toEqual([['add-local', 2]]);
    },
  );
});

describe('single-stage-build-tools', () => {
  test('compilers from apt plus a build', () => {
    const text = lines(
      'FROM debian:12',
      'RUN apt-get update && apt-get install -y build-essential && rm -rf /var/lib/apt/lists/*',
      'COPY . .',
      'RUN make',
      USER,
    );
    expect(found(text)).toEqual([['single-stage-build-tools', 2]]);
  });

  test('no finding without a build, with two stages, or with dev deps left out', () => {
    expect(found(lines('FROM node:20-alpine', 'RUN npm ci', USER))).toEqual([]);
    expect(found(lines('FROM node:20-alpine AS b', 'RUN npm ci && npm run build', 'FROM b', USER))).toEqual(
      [],
    );
    for (const install of [
      'RUN npm ci --omit=dev',
      'RUN npm install --production',
      'RUN yarn --production',
    ]) {
      expect(found(lines('FROM node:20-alpine', install, 'RUN npm run build', USER))).toEqual([]);
    }
    // npm skips dev dependencies when NODE_ENV=production.
    expect(
      found(lines('FROM node:20-alpine', 'ENV NODE_ENV=production', 'RUN npm ci', 'RUN npm run build', USER)),
    ).toEqual([]);
  });

  test('build packages removed in the same RUN never reach the image', () => {
    const text = lines(
      'FROM python:3.12-alpine',
      'RUN apk add --no-cache --virtual .build-deps gcc musl-dev && make && apk del .build-deps',
      USER,
    );
    expect(found(text)).toEqual([]);
    expect(found(text.replace(' && apk del .build-deps', ''))).toEqual([['single-stage-build-tools', 2]]);
  });

  test('yarn and apk add build-base count too', () => {
    expect(found(lines('FROM node:20-alpine', 'RUN yarn --frozen-lockfile', 'RUN yarn build', USER))).toEqual(
      [['single-stage-build-tools', 2]],
    );
    expect(
      found(lines('FROM alpine:3.20', 'RUN apk add --no-cache build-base go', 'RUN go build ./...', USER)),
    ).toEqual([['single-stage-build-tools', 2]]);
  });
});

describe('no-user', () => {
  test('USER root or 0 as the last USER of the final stage', () => {
    for (const u of ['USER root', 'USER 0', 'USER 0:0', 'USER root:root']) {
      expect(found(lines('FROM alpine:3.20', 'USER app', u), 'no-user')).toEqual([['no-user', 3]]);
    }
    expect(found(lines('FROM alpine:3.20', 'USER root', 'RUN true', 'USER app'), 'no-user')).toEqual([]);
  });

  test('a USER in an earlier stage counts only when the final stage builds on it', () => {
    const base = lines('FROM node:20-alpine AS base', 'USER node');
    expect(found(base + lines('FROM base'), 'no-user')).toEqual([]);
    expect(found(base + lines('FROM node:20-alpine'), 'no-user')).toEqual([['no-user', 3]]);
  });

  test('the target option picks the final stage', () => {
    const text = lines(
      'FROM node:20-alpine AS dev',
      'CMD ["npm", "run", "dev"]',
      'FROM node:20-alpine AS prod',
      'USER node',
    );
    expect(found(text, 'no-user')).toEqual([]);
    expect(found(text, 'no-user', { ...OPTS, target: 'dev' })).toEqual([['no-user', 1]]);
    expect(found(text, 'no-user', { ...OPTS, target: 'PROD' })).toEqual([]);
    expect(() => adviseDockerfile(text, { ...OPTS, target: 'test' })).toThrow(
      /target stage 'test'.*dev, prod/,
    );
  });

  test('USER from a variable is resolved when it can be; distroless nonroot needs none', () => {
    expect(found(lines('FROM alpine:3.20', 'ARG RUN_AS=0', 'USER ${RUN_AS}'), 'no-user')).toEqual([
      ['no-user', 3],
    ]);
    expect(found(lines('FROM alpine:3.20', 'ARG RUN_AS', 'USER $RUN_AS'), 'no-user')).toEqual([]);
    expect(found(lines('FROM gcr.io/distroless/nodejs20-debian12:nonroot'), 'no-user')).toEqual([]);
  });
});

test('an empty Dockerfile, or one without FROM, gets no advice', () => {
  expect(found('')).toEqual([]);
  expect(found('# nothing yet\nARG X=1\n')).toEqual([]);
});

test('findings come in line order', () => {
  const text = lines('FROM node', 'ADD a.js /a.js', 'RUN apk add curl');
  expect(found(text)).toEqual([
    ['base-latest', 1],
    ['no-user', 1],
    ['add-local', 2],
    ['apk-no-cache', 3],
  ]);
});
