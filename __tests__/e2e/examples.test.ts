// The rollback example workflow, run through the runner-faithful harness with its own `with:`
// inputs (expressions evaluated as the runner would for a workflow_dispatch with to=previous),
// rolls the sandbox host back. Only the values a user changes when copying the example (where the
// host is, how its nginx is reloaded) are replaced by the sandbox's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT, expectOk, runAction } from '../harness/runner.js';
import {
  addSite,
  removeSite,
  resetApp,
  runnerEnv,
  sandbox,
  sshInputs,
  type Site,
} from '../harness/sandbox.js';
import { appWorkspace, nextSha } from '../harness/workspace.js';

interface Step {
  uses?: string;
  with?: Record<string, string | number | boolean>;
}
const example = YAML.parse(
  readFileSync(path.join(ROOT, '.github/workflows/examples/rollback.yml'), 'utf8'),
) as {
  jobs: Record<string, { steps: Step[] }>;
};
const step = Object.values(example.jobs)
  .flatMap((j) => j.steps)
  .find((s) => s.uses?.startsWith('acme/docker-bluegreen-action@'))!;

/** `${{ inputs.x }}` and `${{ secrets.X }}` as the runner evaluates them for this dispatch. */
function evaluate(
  value: string,
  ctx: { inputs: Record<string, string>; secrets: Record<string, string> },
): string {
  return value.replace(
    /\$\{\{\s*(inputs|secrets)\.([A-Za-z0-9_-]+)\s*\}\}/g,
    (_, scope: 'inputs' | 'secrets', name: string) => {
      const v = ctx[scope][name];
      if (v === undefined)
        throw new Error(`the example uses ${scope}.${name}, which the test does not provide`);
      return v;
    },
  );
}

// What a user changes when copying the example to their repository: where the host is and how its
// nginx is tested and reloaded (the sandbox's nginx runs as the deploy user, without sudo).
const SITE_SPECIFIC = [
  'host',
  'username',
  'ports',
  'nginx-upstream-file',
  'nginx-test-command',
  'reload-command',
];

let site: Site;
const APP = String(step.with!.app);

beforeAll(async () => {
  await resetApp(APP);
  site = addSite(APP, 8301, 3901);
});
afterAll(() => removeSite(APP));

test('the rollback example rolls the sandbox host back to the previous version', async () => {
  const s = sandbox();
  const sandboxValues: Record<string, string> = {
    host: s.sshHost,
    port: String(s.sshPort),
    username: s.sshUser,
    ports: '3901,3902',
    'nginx-upstream-file': site.upstreamFile,
    'nginx-test-command': 'nginx -t',
    'reload-command': 'nginx -s reload',
  };
  // Two deploys of the app the example names, with the example's own app settings.
  const ws = appWorkspace();
  const deployInputs = {
    ...sshInputs(),
    image: APP,
    'build-network': 'host',
    network: 'host',
    ...sandboxValues,
    'container-port': String(step.with!['container-port']),
    'health-path': String(step.with!['health-path']),
    drain: '1s',
  };
  const versions: string[] = [];
  for (const page of ['example v1', 'example v2']) {
    ws.setPage(page);
    const r = await runAction(deployInputs, { env: runnerEnv(), workspace: ws.dir, sha: nextSha() });
    expectOk(r);
    versions.push(r.outputs['build-tag']!);
  }
  const serving = async () => (await (await fetch(`${site.url}/version.txt`)).text()).trim();
  expect(await serving()).toBe(versions[1]);

  // The example's step, as the runner would run it for `to: previous`.
  const secrets = { DEPLOY_SSH_KEY: s.sshKey, DEPLOY_KNOWN_HOSTS: s.knownHosts };
  const withInputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.with!))
    withInputs[k] = evaluate(String(v), { inputs: { to: 'previous', 'dry-run': 'false' }, secrets });
  for (const k of Object.keys(sandboxValues)) if (k !== 'port') expect(SITE_SPECIFIC).toContain(k);
  const r = await runAction({ ...withInputs, ...sandboxValues }, { env: runnerEnv() });
  expectOk(r);
  expect(withInputs.command).toBe('rollback');
  expect(await serving()).toBe(versions[0]);
  expect(r.outputs['build-tag']).toBe(versions[0]);
  expect(r.summary).toContain('### Rollback');
}, 300_000);
