// commandString: over SSH the remote shell always reads the command string, so every argument is
// quoted; these tests hand the string to real shells and compare what the command receives.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { commandString, substitute } from '../../src/host/run.js';

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((s) => existsSync(s));

/** What `sh -c "<string> "` runs, as the argv `printf '%s\n'` saw (one item per line). */
function received(cmd: string, shell = '/bin/sh', env: NodeJS.ProcessEnv = {}): string[] {
  const out = execFileSync(shell, ['-c', `${cmd} `], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    cwd: '/',
  });
  return out.split('\n').slice(0, -1);
}

describe('commandString through a real shell', () => {
  it('is only checked against shells that exist here', () => {
    expect(SHELLS).toContain('/bin/sh');
  });

  it.each(SHELLS)('%s: printf receives exactly the argv, metacharacters and all', (shell) => {
    const items = ['a b', '$(id)', '`x`', "it's", ';rm', '*'];
    expect(received(commandString(['printf', '%s\\n', ...items]), shell)).toEqual(items);
  });

  it.each(SHELLS)('%s: quotes, backslashes, globs, tabs, empty and leading-dash items', (shell) => {
    const items = [
      '',
      ' ',
      '  lead and trail  ',
      'tab\there',
      '"double"',
      "'single'",
      `mixed ' and " and $HOME and \`id\``,
      '\\',
      '\\n',
      'x\\$y',
      '${HOME}',
      '$HOME',
      '~',
      '~root',
      '#not a comment',
      'a#b',
      '{a,b}',
      '[ab]*?',
      'a|b&c>d<e',
      '(sub)',
      '!bang',
      '-n',
      '--',
      'a=b',
      'K=V with spaces',
      '%s %d',
      'é ü 日本 🙂',
    ];
    expect(received(commandString(['printf', '%s\\n', ...items]), shell)).toEqual(items);
  });

  it('nothing is expanded from the environment or the filesystem', () => {
    const out = received(
      commandString(['printf', '%s\\n', '$SECRET', '${SECRET}', '/*', '$(echo hi)']),
      '/bin/sh',
      {
        SECRET: 'leaked',
      },
    );
    expect(out).toEqual(['$SECRET', '${SECRET}', '/*', '$(echo hi)']);
  });

  it('a single command with no arguments runs', () => {
    expect(received(commandString(['pwd']))).toEqual(['/']);
  });

  it('any argv without NUL or newline comes through unchanged (property, /bin/sh)', () => {
    const item = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\0\n\r]/.test(s));
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), (items) => {
        expect(received(commandString(['printf', '%s\\n', ...items]))).toEqual(items);
      }),
      { numRuns: 60 },
    );
  });

  it('ASCII-heavy argv, printable and shell-special characters (property, /bin/sh)', () => {
    const chars = fc.constantFrom(...' \t!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~aZ09'.split(''));
    const item = fc.array(chars, { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), (items) => {
        expect(received(commandString(['printf', '%s\\n', ...items]))).toEqual(items);
      }),
      { numRuns: 60 },
    );
  });
});

describe('commandString with env', () => {
  it('becomes `env K=V cmd` and the command sees the values exactly', () => {
    const cmd = commandString(['printenv', 'A', 'B', 'C'], { A: 'x y', B: "$(id) `x` it's; *", C: 'k=v=w' });
    expect(cmd.startsWith('env ')).toBe(true);
    expect(received(cmd)).toEqual(['x y', "$(id) `x` it's; *", 'k=v=w']);
  });

  it('the assignments come first, in order, then the command and its arguments', () => {
    const cmd = commandString(['printf', '%s\\n', 'arg one'], { FIRST: '1', SECOND: '2' });
    expect(cmd).toMatch(/^env FIRST\\?=1 SECOND\\?=2 printf '%s\\n' 'arg one'$/);
    expect(received(cmd)).toEqual(['arg one']);
  });

  it('an empty value is kept (the variable is set, to nothing)', () => {
    const cmd = commandString(['sh', '-c', 'printf "%s\\n" "${E-unset}"'], { E: '' });
    expect(received(cmd)).toEqual(['']);
  });

  it('an empty env object adds no `env`', () => {
    expect(commandString(['echo', 'hi'], {})).toBe('echo hi');
    expect(commandString(['echo', 'hi'])).toBe('echo hi');
  });

  it.each(['', '1A', 'A-B', 'A B', 'A=B', '$(id)', 'é', 'A;B'])('refuses the variable name %j', (k) => {
    expect(() => commandString(['true'], { [k]: 'v' })).toThrow(/invalid variable name/);
  });

  it.each(['A', '_', '_A1', 'BG_COLOR', 'lower_case'])('accepts the variable name %j', (k) => {
    expect(received(commandString(['printenv', k], { [k]: 'ok' }))).toEqual(['ok']);
  });
});

describe('commandString refusals', () => {
  it('an empty command', () => {
    expect(() => commandString([])).toThrow(/empty command/);
  });

  it.each(['a\nb', 'a\rb', 'a\0b', '\n', 'trailing\n'])('an argument with NUL or newline: %j', (a) => {
    expect(() => commandString(['echo', a])).toThrow(/NUL or newline/);
    expect(() => commandString([a])).toThrow(/NUL or newline/);
  });

  it.each(['a\nb', 'a\rb', 'a\0b'])('a variable value with NUL or newline: %j', (v) => {
    expect(() => commandString(['true'], { K: v })).toThrow(/variable K contains a NUL or newline/);
  });

  it('a command containing = (env would take it for an assignment)', () => {
    expect(() => commandString(['A=B', 'x'], { K: 'v' })).toThrow(/contains '='/);
    expect(() => commandString(['A=B'])).toThrow(/contains '='/);
    expect(() => commandString(['/opt/a=b/bin/tool'])).toThrow(/contains '='/);
  });

  it('= in an argument after the command is fine', () => {
    expect(received(commandString(['printf', '%s\\n', 'A=B'], { K: 'v' }))).toEqual(['A=B']);
  });
});

describe('substitute', () => {
  const VARS = { BG_APP: 'myapp', BG_COLOR: 'green', BG_PORT: '3002', BG_CONTAINER: 'myapp-green' };

  it('replaces ${VAR} placeholders with their values', () => {
    expect(substitute(['/usr/local/bin/switch', '${BG_COLOR}', '--port=${BG_PORT}'], VARS)).toEqual([
      '/usr/local/bin/switch',
      'green',
      '--port=3002',
    ]);
  });

  it('several placeholders in one argument', () => {
    expect(substitute(['${BG_APP}-${BG_COLOR}:${BG_PORT}'], VARS)).toEqual(['myapp-green:3002']);
  });

  it('unknown placeholders become empty', () => {
    expect(substitute(['a${NOPE}b', '${NOPE}'], VARS)).toEqual(['ab', '']);
  });

  it('leaves anything that is not a ${NAME} placeholder alone', () => {
    expect(
      substitute(['$BG_COLOR', '${}', '${1X}', '${BG-COLOR}', '$${BG_COLOR}', '{BG_COLOR}'], VARS),
    ).toEqual(['$BG_COLOR', '${}', '${1X}', '${BG-COLOR}', '$green', '{BG_COLOR}']);
  });

  it('a value is inserted as it is, never substituted again or split', () => {
    expect(substitute(['${A}', '${B}'], { A: '${B}', B: 'two words; $(id)' })).toEqual([
      '${B}',
      'two words; $(id)',
    ]);
  });

  it('returns a new array with the same length and leaves the input alone', () => {
    const argv = ['x', '${BG_PORT}'];
    const out = substitute(argv, VARS);
    expect(out).toEqual(['x', '3002']);
    expect(argv).toEqual(['x', '${BG_PORT}']);
    expect(out).not.toBe(argv);
  });

  it('a substituted argv still reaches the command unchanged through the shell', () => {
    const argv = substitute(['printf', '%s\\n', '${V}', 'x ${V} y'], { V: "it's $(id)" });
    expect(received(commandString(argv))).toEqual(["it's $(id)", "x it's $(id) y"]);
  });
});
