// action.yml is the public contract: every input and output the code knows, with a description,
// and the same defaults the config parser falls back to.
import { INPUT_DEFAULTS } from '../../src/config/parse.js';
import { OUTPUT_NAMES } from '../../src/context.js';
import { actionYml } from '../harness/runner.js';

const yml = actionYml();

test('runs on node24 with a main and a post entry in dist/', () => {
  expect(yml.runs).toEqual({ using: 'node24', main: 'dist/index.js', post: 'dist/post/index.js' });
});

test('every input has a description and the default the parser uses', () => {
  expect(Object.keys(yml.inputs).sort()).toEqual(Object.keys(INPUT_DEFAULTS).sort());
  for (const [name, spec] of Object.entries(yml.inputs)) {
    expect(spec.description.length).toBeGreaterThan(10);
    expect([name, spec.default]).toEqual([name, INPUT_DEFAULTS[name as keyof typeof INPUT_DEFAULTS]]);
  }
});

test('every output is declared with a description', () => {
  expect(Object.keys(yml.outputs).sort()).toEqual([...OUTPUT_NAMES].sort());
  for (const spec of Object.values(yml.outputs)) expect(spec.description.length).toBeGreaterThan(5);
});
