// The only place that reads the runner's inputs: mask secrets first, then parse.
import * as core from '@actions/core';
import { INPUT_DEFAULTS, parseConfig, type InputName, type ParseResult } from './parse.js';
import { SECRET_INPUTS, type GithubContext } from './schema.js';

export function githubContext(env: NodeJS.ProcessEnv = process.env): GithubContext {
  const pick = (k: string) => (env[k] && env[k] !== '' ? env[k] : undefined);
  const c: Record<string, string | undefined> = {
    sha: pick('GITHUB_SHA'),
    runId: pick('GITHUB_RUN_ID'),
    runAttempt: pick('GITHUB_RUN_ATTEMPT'),
    actor: pick('GITHUB_ACTOR'),
    repository: pick('GITHUB_REPOSITORY'),
    workflow: pick('GITHUB_WORKFLOW'),
    ref: pick('GITHUB_REF'),
  };
  const defined = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  return {
    ...defined,
    serverUrl: pick('GITHUB_SERVER_URL') ?? 'https://github.com',
    workspace: pick('GITHUB_WORKSPACE') ?? process.cwd(),
    runnerTemp: pick('RUNNER_TEMP') ?? '/tmp',
  };
}

/** Reads every input, masks the secret ones (and env values) before anything can log them. */
export function readConfig(now = new Date()): ParseResult {
  const values = new Map<InputName, string>();
  for (const name of Object.keys(INPUT_DEFAULTS) as InputName[]) values.set(name, core.getInput(name));
  for (const name of SECRET_INPUTS) maskValue(values.get(name) ?? '');
  // Container env values are never logged; mask the ones long enough to be worth masking.
  for (const line of (values.get('env') ?? '').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) maskValue(line.slice(eq + 1).trim(), 4);
  }
  return parseConfig((n) => values.get(n) ?? '', githubContext(), now);
}

function maskValue(value: string, minLength = 1): void {
  if (value.length < minLength) return;
  core.setSecret(value);
  // The runner masks line by line: mask every line of a multi-line secret (a PEM key) too.
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) core.setSecret(line.trim());
}
