// Keeps the input and output tables of README.md equal to action.yml: every row (name, default,
// meaning) is generated from action.yml. The README decides the groups and the order of the rows;
// an input the README does not list yet lands in an "Other inputs" table, to be moved to its group.
//
//   node scripts/readme-inputs.mjs           rewrite the tables in README.md
//   node scripts/readme-inputs.mjs --check   exit 1 (and say what differs) when they are not current
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const action = YAML.parse(readFileSync(path.join(root, 'action.yml'), 'utf8'));
const readmePath = path.join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');

/** A description as a table cell: placeholders such as <app> in backticks, pipes escaped. */
function cell(text) {
  return text
    .replace(/\|/g, '\\|')
    .replace(/(\S*<[^>\s][^>]*>(?:[^\s,;]*[^\s,;.])?)/g, '`$1`')
    .replace(/\s*\n\s*/g, ' ');
}
const code = (v) => (v === '' || v === undefined ? '' : `\`${v}\``);
const inputRow = (name) =>
  `| \`${name}\` | ${code(action.inputs[name].default)} | ${cell(action.inputs[name].description)} |`;
const outputRow = (name) => `| \`${name}\` | ${cell(action.outputs[name].description)} |`;
const ROW_NAME = /^\|\s*`([a-z0-9-]+)`\s*\|/;

/** Rewrites the tables between <!-- NAME:start --> and <!-- NAME:end -->. */
function regenerate(text, marker, known, row, header) {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} ... ${end} section`);
  const listed = new Set();
  const lines = text
    .slice(a + start.length, b)
    .split('\n')
    .flatMap((line) => {
      const m = ROW_NAME.exec(line);
      if (!m) return [line];
      if (!(m[1] in known) || listed.has(m[1])) return []; // gone from action.yml, or a duplicate
      listed.add(m[1]);
      return [row(m[1])];
    });
  const missing = Object.keys(known).filter((n) => !listed.has(n));
  let body = lines.join('\n');
  if (missing.length && body.includes(`### Other ${marker}`)) {
    body = body.replace(/\n*$/, `\n${missing.map(row).join('\n')}\n\n`);
  } else if (missing.length) {
    const table = [header, ...missing.map(row)].join('\n');
    body = body.replace(/\n*$/, `\n\n### Other ${marker} (new: move each row to its group)\n\n${table}\n\n`);
  }
  return { text: text.slice(0, a + start.length) + body + text.slice(b), missing };
}

const inputs = regenerate(
  readme,
  'inputs',
  action.inputs,
  inputRow,
  '| input | default | meaning |\n| --- | --- | --- |',
);
const outputs = regenerate(
  inputs.text,
  'outputs',
  action.outputs,
  outputRow,
  '| output | meaning |\n| --- | --- |',
);
const next = outputs.text;

if (process.argv.includes('--check')) {
  if (next === readme) process.exit(0);
  const rowsOf = (text) => new Set(text.split('\n').filter((l) => ROW_NAME.test(l)));
  const before = rowsOf(readme);
  console.log(
    'README.md input/output tables are not what action.yml says; run node scripts/readme-inputs.mjs',
  );
  for (const l of rowsOf(next)) if (!before.has(l)) console.log(`  expected: ${l}`);
  for (const n of [...inputs.missing, ...outputs.missing]) console.log(`  missing: ${n}`);
  process.exit(1);
}
if (next !== readme) writeFileSync(readmePath, next);
const missing = [...inputs.missing, ...outputs.missing];
console.log(
  next === readme
    ? 'README.md tables are up to date'
    : `README.md tables rewritten${missing.length ? `; new rows to move to their group: ${missing.join(', ')}` : ''}`,
);
