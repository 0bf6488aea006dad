// `npm run demo`: stand up the sandbox and deploy the example app twice with the bundled action,
// run exactly as a GitHub runner runs it; print each run's log and the job summary.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, runAction } from '../__tests__/harness/runner.js';
import { runnerEnv, sandbox, sshInputs } from '../__tests__/harness/sandbox.js';

const s = sandbox();
// A copy of the example app, so the second deploy can change its source like a new commit would.
const workspace = mkdtempSync(path.join(tmpdir(), 'bg-demo-'));
cpSync(path.join(ROOT, '__tests__/fixtures/app'), workspace, { recursive: true });
const inputs = {
  ...sshInputs(),
  image: 'demo',
  'build-network': 'host',
  network: 'host',
  'nginx-upstream-file': `${s.nginxDir}/conf.d/demo.upstream`,
  'health-path': '/healthz',
  drain: '2s',
};

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url).catch((e: Error) => ({ ok: false, status: 0, text: async () => e.message }));
  return `${r.status} ${(await r.text()).trim()}`;
}

let rc = 0;
for (const [i, sha] of ['1111111aaaaaaa', '2222222bbbbbbb'].entries()) {
  writeFileSync(path.join(workspace, 'src/index.html'), `<h1>demo app, deploy ${i + 1}</h1>\n`);
  process.stdout.write(`\n======== deploy ${i + 1} (commit ${sha.slice(0, 7)}) ========\n`);
  const r = await runAction(inputs, { env: runnerEnv(), workspace, sha: sha.padEnd(40, '0') });
  process.stdout.write(r.log.replace(/^::debug::.*\n/gm, ''));
  process.stdout.write(
    `\n---- job summary ----\n${r.summary}\n---- outputs ----\n${JSON.stringify(r.outputs, null, 2)}\n`,
  );
  process.stdout.write(
    `nginx on 127.0.0.1:${s.nginxPort} now answers: ${await fetchText(`http://127.0.0.1:${s.nginxPort}/`)} (version ${await fetchText(`http://127.0.0.1:${s.nginxPort}/version.txt`)})\n`,
  );
  if (r.main.exitCode !== 0) {
    rc = r.main.exitCode;
    break;
  }
}
process.exit(rc);
