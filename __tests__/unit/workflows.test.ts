// The workflows and the README against action.yml: every input a workflow, the reusable workflow or a
// README snippet passes to the action exists, the reusable workflow maps its inputs, secrets and
// outputs one to one, and the README's tables list exactly the inputs and outputs of action.yml.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT, actionYml } from '../harness/runner.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

const action = actionYml();
const INPUTS = new Set(Object.keys(action.inputs));
const OUTPUTS = Object.keys(action.outputs);
/** Inputs that must come from secrets, never from a literal or a plain input. */
const SECRET_INPUTS = ['ssh-key', 'ssh-key-passphrase', 'registry-password'];

const ACTION_REF = /^acme\/docker-bluegreen-action@/;
const REUSABLE_REF = /^acme\/docker-bluegreen-action\/\.github\/workflows\/deploy\.yml@/;
const usesAction = (uses: unknown) => uses === './' || (typeof uses === 'string' && ACTION_REF.test(uses));

const WORKFLOW_DIR = path.join(ROOT, '.github/workflows');
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) => {
    const p = path.join(d, f);
    return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(f) ? [p] : [];
  });
const workflows = walk(WORKFLOW_DIR).map((file) => {
  const text = readFileSync(file, 'utf8');
  return { rel: path.relative(ROOT, file), text, doc: obj(YAML.parse(text)) };
});
const byName = (rel: string) => {
  const w = workflows.find((x) => x.rel === rel);
  if (!w) throw new Error(`${rel} is missing`);
  return w;
};

interface Use {
  readonly where: string;
  readonly uses: string;
  readonly with: Obj;
  readonly secrets?: unknown;
}
/** Every mapping with a `uses:` key anywhere in a parsed document: steps and reusable-workflow jobs. */
function findUses(node: unknown, where: string, out: Use[] = []): Use[] {
  if (Array.isArray(node)) node.forEach((n, i) => findUses(n, `${where}[${i}]`, out));
  else if (isObj(node)) {
    if (typeof node.uses === 'string')
      out.push({ where, uses: node.uses, with: obj(node.with), secrets: node.secrets });
    for (const [k, v] of Object.entries(node)) findUses(v, `${where}.${k}`, out);
  }
  return out;
}
const actionSteps = (doc: unknown, where: string) => findUses(doc, where).filter((u) => usesAction(u.uses));
const reusableCalls = (doc: unknown, where: string) =>
  findUses(doc, where).filter((u) => REUSABLE_REF.test(u.uses));

/** Every string value in a parsed document (comments are not values). */
function strings(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => strings(n, out));
  else if (isObj(node)) Object.values(node).forEach((n) => strings(n, out));
  return out;
}
function references(doc: unknown, context: 'inputs' | 'secrets'): Set<string> {
  const re = new RegExp(`\\b${context}\\.([A-Za-z_][A-Za-z0-9_-]*)`, 'g');
  return new Set(strings(doc).flatMap((s) => [...s.matchAll(re)].map((m) => m[1]!)));
}

// --- every workflow ------------------------------------------------------------------------------

describe('workflows under .github/workflows', () => {
  test('the reusable workflow and the five examples are there', () => {
    expect(workflows.map((w) => w.rel).sort()).toEqual(
      expect.arrayContaining([
        '.github/workflows/deploy.yml',
        ...['deploy-on-push', 'call-reusable', 'rollback', 'nightly-cleanup', 'self-hosted'].map(
          (n) => `.github/workflows/examples/${n}.yml`,
        ),
      ]),
    );
  });

  test.each(workflows.map((w) => [w.rel, w] as const))('%s is a workflow with on and jobs', (_, w) => {
    expect(w.doc.on).toBeDefined();
    expect(Object.keys(obj(w.doc.jobs)).length).toBeGreaterThan(0);
  });

  test('every step that uses the action passes only inputs of action.yml', () => {
    const unknown: string[] = [];
    let steps = 0;
    for (const w of workflows)
      for (const step of actionSteps(w.doc, w.rel)) {
        steps++;
        for (const key of Object.keys(step.with)) if (!INPUTS.has(key)) unknown.push(`${step.where}: ${key}`);
      }
    expect(unknown).toEqual([]);
    expect(steps).toBeGreaterThanOrEqual(5);
  });

  test('secret inputs are always given from secrets', () => {
    const literal: string[] = [];
    for (const w of workflows)
      for (const step of actionSteps(w.doc, w.rel))
        for (const key of SECRET_INPUTS) {
          const v = step.with[key];
          if (v !== undefined && !/^\$\{\{\s*secrets\.[A-Za-z0-9_-]+\s*\}\}$/.test(String(v)))
            literal.push(`${step.where}: ${key}`);
        }
    expect(literal).toEqual([]);
  });

  test('every step with a host verifies the host key (known-hosts or host-fingerprint)', () => {
    for (const w of workflows)
      for (const step of actionSteps(w.doc, w.rel))
        if (step.with.host !== undefined && step.with['insecure-skip-host-key-check'] !== true)
          expect([step.where, 'known-hosts' in step.with || 'host-fingerprint' in step.with]).toEqual([
            step.where,
            true,
          ]);
  });

  test('every caller of the reusable workflow passes only its inputs and secrets, and the required ones', () => {
    const reusable = obj(obj(byName('.github/workflows/deploy.yml').doc.on).workflow_call);
    const inputs = obj(reusable.inputs);
    const secrets = obj(reusable.secrets);
    const required = Object.keys(secrets).filter((s) => obj(secrets[s]).required === true);
    let calls = 0;
    for (const w of workflows)
      for (const call of reusableCalls(w.doc, w.rel)) {
        calls++;
        expect(Object.keys(call.with).filter((k) => !(k in inputs))).toEqual([]);
        expect(call.secrets).not.toBe('inherit'); // the secrets are named: pass them by name
        const given = Object.keys(obj(call.secrets));
        expect(given.filter((k) => !(k in secrets))).toEqual([]);
        expect(required.filter((k) => !given.includes(k))).toEqual([]);
      }
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  test('each example says in its first lines that GitHub does not run it from there', () => {
    for (const w of workflows.filter((x) => x.rel.includes('/examples/')))
      expect([w.rel, w.text.split('\n').slice(0, 3).join('\n')]).toEqual([
        w.rel,
        expect.stringMatching(/not run[\s\S]*subfolder/),
      ]);
  });
});

// --- the reusable workflow -----------------------------------------------------------------------

describe('the reusable workflow .github/workflows/deploy.yml', () => {
  const { doc } = byName('.github/workflows/deploy.yml');
  const call = obj(obj(doc.on).workflow_call);
  const inputs = obj(call.inputs);
  const secrets = obj(call.secrets);
  const jobs = obj(doc.jobs);
  const [jobName, job] = Object.entries(jobs).map(([n, j]) => [n, obj(j)] as const)[0]!;
  const steps = actionSteps(doc, 'deploy.yml');
  const step = steps[0]!;
  /** Inputs of the job itself, not of the action. */
  const JOB_INPUTS = ['runs-on', 'environment', 'timeout-minutes'];

  test('is triggered by workflow_call only, with one job running the action once', () => {
    expect(Object.keys(obj(doc.on))).toEqual(['workflow_call']);
    expect(Object.keys(jobs)).toHaveLength(1);
    expect(steps).toHaveLength(1);
  });

  test('declares the commonly used inputs and the job inputs', () => {
    const expected = [
      'command',
      'image',
      'context',
      'file',
      'tags',
      'platform',
      'build-args',
      'app',
      'host',
      'port',
      'username',
      'ports',
      'container-port',
      'network',
      'env',
      'health-path',
      'health-timeout',
      'proxy',
      'nginx-upstream-file',
      'reload-command',
      'nginx-test-command',
      'drain',
      'rollback-to',
      'keep-images',
      'prune-build-cache',
      'max-disk-usage',
      'dry-run',
      ...JOB_INPUTS,
    ];
    expect(expected.filter((n) => !(n in inputs))).toEqual([]);
  });

  test('every input is typed, described and optional; action inputs keep the default of action.yml', () => {
    for (const [name, raw] of Object.entries(inputs)) {
      const spec = obj(raw);
      expect([name, typeof spec.description, spec.required]).toEqual([name, 'string', false]);
      expect(['string', 'boolean', 'number']).toContain(spec.type);
      if (JOB_INPUTS.includes(name)) continue;
      expect([name, INPUTS.has(name)]).toEqual([name, true]);
      expect([name, String(spec.default)]).toEqual([name, action.inputs[name]!.default ?? '']);
      expect(typeof spec.default).toBe(spec.type);
    }
  });

  test('covers the whole action: every other input of action.yml is an input, every output an output', () => {
    const secretNames = new Set([...SECRET_INPUTS, 'known-hosts']);
    const missing = [...INPUTS].filter((n) => !secretNames.has(n) && !(n in inputs));
    expect(missing).toEqual([]);
    expect(OUTPUTS.filter((n) => !(n in obj(call.outputs)))).toEqual([]);
  });

  test('secret inputs of the action are secrets here, never plain inputs', () => {
    for (const name of [...SECRET_INPUTS, 'known-hosts']) {
      expect([name, name in inputs]).toEqual([name, false]);
      expect([name, name in secrets]).toEqual([name, true]);
    }
  });

  test('declares the secrets: ssh-key (required), known-hosts, ssh-key-passphrase, registry-password, env-secrets', () => {
    expect(Object.keys(secrets).sort()).toEqual(
      ['env-secrets', 'known-hosts', 'registry-password', 'ssh-key', 'ssh-key-passphrase'].sort(),
    );
    for (const [name, raw] of Object.entries(secrets)) {
      const spec = obj(raw);
      expect([name, typeof spec.description, spec.required]).toEqual([name, 'string', name === 'ssh-key']);
    }
  });

  test('passes every input and secret to the action input of the same name (env gets env-secrets too)', () => {
    for (const [key, value] of Object.entries(step.with)) {
      const v = String(value);
      if (key === 'env') {
        expect(v).toContain('${{ inputs.env }}');
        expect(v).toContain('${{ secrets.env-secrets }}');
      } else if (key in secrets) expect([key, v]).toEqual([key, `\${{ secrets.${key} }}`]);
      else expect([key, v]).toEqual([key, `\${{ inputs.${key} }}`]);
    }
    const passed = new Set(Object.keys(step.with));
    const unused = Object.keys(inputs).filter((n) => !JOB_INPUTS.includes(n) && !passed.has(n));
    expect(unused).toEqual([]);
    expect(Object.keys(secrets).filter((n) => n !== 'env-secrets' && !passed.has(n))).toEqual([]);
  });

  test('refers only to inputs and secrets it declares', () => {
    expect([...references(doc, 'inputs')].filter((n) => !(n in inputs))).toEqual([]);
    expect([...references(doc, 'secrets')].filter((n) => !(n in secrets))).toEqual([]);
  });

  test('uses the action by name at the major tag callers use for this workflow, not ./', () => {
    expect(step.uses).toMatch(/^acme\/docker-bluegreen-action@v\d+$/);
    const callers = workflows.flatMap((w) => reusableCalls(w.doc, w.rel));
    for (const c of callers) expect(c.uses.split('@')[1]).toBe(step.uses.split('@')[1]);
  });

  test('queues runs per app and host instead of cancelling them', () => {
    const concurrency = obj(job.concurrency);
    expect(concurrency['cancel-in-progress']).toBe(false);
    expect(String(concurrency.group)).toMatch(/^bluegreen-/);
    for (const part of ['inputs.app', 'inputs.image', 'inputs.host'])
      expect(String(concurrency.group)).toContain(part);
  });

  test("passes the action's outputs through as the workflow's outputs", () => {
    const jobSteps: unknown[] = Array.isArray(job.steps) ? job.steps : [];
    const stepId = obj(jobSteps.find((s) => usesAction(obj(s).uses))).id;
    expect(typeof stepId).toBe('string');
    const jobOutputs = obj(job.outputs);
    const outputs = obj(call.outputs);
    for (const name of [
      'build-tag',
      'image',
      'image-id',
      'active-color',
      'previous-color',
      'bytes-sent',
      'reclaimed-bytes',
      'removed-images',
    ])
      expect(name in outputs).toBe(true);
    for (const [name, raw] of Object.entries(outputs)) {
      expect([name, OUTPUTS.includes(name)]).toEqual([name, true]);
      expect(obj(raw).value).toBe(`\${{ jobs.${jobName}.outputs.${name} }}`);
      expect(jobOutputs[name]).toBe(`\${{ steps.${String(stepId)}.outputs.${name} }}`);
    }
  });
});

// --- the examples ------------------------------------------------------------------------------

describe('the examples', () => {
  const step = (name: string) => {
    const s = actionSteps(byName(`.github/workflows/examples/${name}.yml`).doc, name);
    expect(s).toHaveLength(1);
    return s[0]!.with;
  };

  test('rollback.yml: workflow_dispatch with input to (previous by default) → command rollback', () => {
    const { doc } = byName('.github/workflows/examples/rollback.yml');
    const to = obj(obj(obj(obj(doc.on).workflow_dispatch).inputs).to);
    expect(to.default).toBe('previous');
    expect(step('rollback')).toMatchObject({ command: 'rollback', 'rollback-to': '${{ inputs.to }}' });
  });

  test('nightly-cleanup.yml: a schedule running command cleanup with retention inputs', () => {
    const { doc } = byName('.github/workflows/examples/nightly-cleanup.yml');
    expect(obj(doc.on).schedule).toEqual([{ cron: expect.any(String) }]);
    const w = step('nightly-cleanup');
    expect(w.command).toBe('cleanup');
    expect(Object.keys(w)).toEqual(expect.arrayContaining(['keep-images', 'prune-build-cache']));
  });

  test('self-hosted.yml: a self-hosted runner and no host (the local daemon)', () => {
    const { doc } = byName('.github/workflows/examples/self-hosted.yml');
    const job = obj(Object.values(obj(doc.jobs))[0]);
    expect(JSON.stringify(job['runs-on'])).toContain('self-hosted');
    const w = step('self-hosted');
    for (const k of ['host', 'username', 'ssh-key', 'known-hosts', 'transfer']) expect(k in w).toBe(false);
  });

  test('deploy-on-push.yml: a push to main running the action', () => {
    const { doc } = byName('.github/workflows/examples/deploy-on-push.yml');
    expect(obj(obj(doc.on).push).branches).toEqual(['main']);
    expect(step('deploy-on-push').image).toBeDefined();
  });
});

// --- README.md -------------------------------------------------------------------------------

describe('README.md', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = (marker: string) => {
    const a = readme.indexOf(`<!-- ${marker}:start -->`);
    const b = readme.indexOf(`<!-- ${marker}:end -->`);
    expect([marker, a >= 0 && b > a]).toEqual([marker, true]);
    return readme.slice(a, b);
  };
  /** The first cell of every table row: [name, the other cells]. */
  const rows = (text: string) =>
    text
      .split('\n')
      .map((l) => /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!.split('|').map((c) => c.trim())] as const);

  test('names every input and every output of action.yml in backticks', () => {
    const missing = [...INPUTS, ...OUTPUTS].filter((n) => !readme.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  test('its input tables list each input of action.yml once, with its default, and nothing else', () => {
    const found = rows(section('inputs'));
    const names = found.map(([n]) => n);
    expect(names.filter((n) => !INPUTS.has(n))).toEqual([]);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...INPUTS].filter((n) => !names.includes(n))).toEqual([]);
    for (const [name, [def]] of found) {
      const want = action.inputs[name]!.default ?? '';
      expect([name, def]).toEqual([name, want === '' ? '' : `\`${want}\``]);
    }
  });

  test('its output table lists each output of action.yml once, and nothing else', () => {
    const names = rows(section('outputs')).map(([n]) => n);
    expect([...names].sort()).toEqual([...OUTPUTS].sort());
  });

  test('its tables are what scripts/readme-inputs.mjs generates from action.yml', () => {
    expect(() =>
      execFileSync(process.execPath, [path.join(ROOT, 'scripts/readme-inputs.mjs'), '--check'], {
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });

  test('shows npm run demo and npm test prominently: in a code block before the first section', () => {
    const top = readme.slice(0, readme.indexOf('\n## '));
    expect(top).toMatch(/```sh\nnpm run demo\b[^`]*\nnpm test\b/);
  });

  const snippets = [...readme.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m, i) => ({
    i,
    text: m[1]!,
    doc: YAML.parse(m[1]!) as unknown,
  }));

  test('every YAML snippet passes only real inputs to the action and to the reusable workflow', () => {
    const reusable = obj(obj(byName('.github/workflows/deploy.yml').doc.on).workflow_call);
    let seen = 0;
    for (const s of snippets) {
      for (const u of actionSteps(s.doc, `snippet ${s.i}`)) {
        seen++;
        expect(Object.keys(u.with).filter((k) => !INPUTS.has(k))).toEqual([]);
      }
      for (const u of reusableCalls(s.doc, `snippet ${s.i}`)) {
        seen++;
        expect(Object.keys(u.with).filter((k) => !(k in obj(reusable.inputs)))).toEqual([]);
        expect(Object.keys(obj(u.secrets)).filter((k) => !(k in obj(reusable.secrets)))).toEqual([]);
      }
    }
    expect(seen).toBeGreaterThanOrEqual(3);
  });

  test('a snippet that names an example file is a verbatim part of that file', () => {
    const named = snippets
      .map((s) => ({ ...s, file: /^# (\.github\/workflows\/examples\/[\w-]+\.yml)/.exec(s.text)?.[1] }))
      .filter((s) => s.file !== undefined);
    expect(named.length).toBeGreaterThanOrEqual(3);
    for (const s of named) {
      const body = s.text.split('\n').slice(1).join('\n');
      expect([s.file, byName(s.file!).text.includes(body)]).toEqual([s.file, true]);
    }
  });
});
