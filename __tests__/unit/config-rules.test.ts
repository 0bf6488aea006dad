// The pure validators of src/config/rules.ts, one describe per kind of value: what each accepts
// (and parses it to), what it refuses, and that a refusal quotes the value and gives an example.
import fc from 'fast-check';
import {
  APP_RE,
  ENV_KEY,
  KNOWN_PLATFORMS,
  LABEL_KEY,
  TAG_RE,
  isImageReference,
  parseBool,
  parseDuration,
  parseEnum,
  parseFingerprint,
  parseHost,
  parseInteger,
  parseKeyValues,
  parsePercent,
  parsePlatforms,
  parsePort,
  parseRemotePath,
  parseRepository,
  parseRestart,
  parseSize,
  parseSizeOrPercent,
  parseUsername,
  parseVolumes,
  show,
  splitList,
  type Result,
} from '../../src/config/rules.js';

function valueOf<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected a value, got the problem: ${r.problem}`);
  return r.value;
}

/** The problem of a refused value; every problem ends with an example of a good value. */
function problemOf<T>(r: Result<T>): string {
  if (r.ok) throw new Error(`expected a problem, got the value ${JSON.stringify(r.value)}`);
  expect(r.problem).toMatch(/; e\.g\. \S/);
  return r.problem;
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const HEX64 = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);

describe('show', () => {
  test('quotes a value and escapes newlines and control characters', () => {
    expect(show('a b')).toBe('"a b"');
    expect(show('a\nb\u0001')).toBe('"a\\nb\\u0001"');
  });

  test('caps a long value at 80 characters', () => {
    const s = show('x'.repeat(500));
    expect(s).toBe(JSON.stringify('x'.repeat(77) + '...'));
  });
});

describe('parseBool: exactly the spellings core.getBooleanInput accepts', () => {
  test.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
  ])('%s → %s', (raw, want) => {
    expect(valueOf(parseBool(raw))).toBe(want);
  });

  test.each(['yes', 'no', 'on', 'off', '1', '0', 'tRUE', 'TRue', 'fALSE', 'y', ' true', 'true ', ''])(
    'refuses %j',
    (raw) => {
      const p = problemOf(parseBool(raw));
      expect(p).toContain(show(raw));
      expect(p).toContain('true | True | TRUE | false | False | FALSE');
    },
  );
});

describe('parseEnum', () => {
  const allowed = ['nginx', 'command', 'none'] as const;

  test.each(allowed)('accepts %s', (v) => {
    expect(valueOf(parseEnum(v, allowed))).toBe(v);
  });

  test.each(['Nginx', 'NGINX', 'haproxy', '', 'nginx '])('refuses %j, listing the allowed values', (v) => {
    const p = problemOf(parseEnum(v, allowed));
    expect(p).toContain(show(v));
    expect(p).toContain('nginx, command, none');
  });
});

describe('parsePort', () => {
  test.each([
    ['1', 1],
    ['22', 22],
    ['3001', 3001],
    ['65535', 65535],
    ['08080', 8080],
  ])('%s → %d', (raw, want) => {
    expect(valueOf(parsePort(raw))).toBe(want);
  });

  test.each(['0', '65536', '99999', '123456', '-1', '80a', '', ' 80', '1e3', '3001.0', '0x50'])(
    'refuses %j',
    (raw) => {
      expect(problemOf(parsePort(raw))).toContain('1-65535');
    },
  );
});

describe('parseInteger', () => {
  test('accepts the bounds', () => {
    expect(valueOf(parseInteger('1', 1, 1000, '3'))).toBe(1);
    expect(valueOf(parseInteger('1000', 1, 1000, '3'))).toBe(1000);
  });

  test.each(['0', '1001', '-1', '1.5', 'three', '', '9999999999'])('refuses %j', (raw) => {
    expect(problemOf(parseInteger(raw, 1, 1000, '3'))).toContain('e.g. 3');
  });
});

describe('parseDuration', () => {
  test.each([
    ['90s', 90 * SEC],
    ['10m', 10 * MIN],
    ['168h', 168 * HOUR],
    ['1h30m', 90 * MIN],
    ['500ms', 500],
    ['0', 0],
    ['0s', 0],
    ['7d', 7 * DAY],
    ['1.5h', 90 * MIN],
    ['2h45m30s', 2 * HOUR + 45 * MIN + 30 * SEC],
    ['1m30s250ms', 90 * SEC + 250],
    ['8760h', 365 * DAY],
  ])('%s → %d ms', (raw, want) => {
    expect(valueOf(parseDuration(raw))).toBe(want);
  });

  test('a bare number is refused with a hint to add a unit', () => {
    const p = problemOf(parseDuration('60'));
    expect(p).toContain('"60" is not a duration');
    expect(p).toContain('add a unit');
    expect(p).toContain('e.g. 90s');
  });

  test.each([
    '-5s',
    '+5s',
    '10 minutes',
    '5 s',
    ' 5s',
    '5s ',
    '5S',
    '5x',
    's',
    '1.s',
    '.5s',
    '1e3s',
    '',
    '00',
    '5m-3s',
  ])('refuses %j', (raw) => {
    expect(problemOf(parseDuration(raw, '10m'))).toContain(`${show(raw)} is not a duration`);
  });

  test.each(['367d', '9000h', '1000000m', '99999999999999999999999s'])(
    'refuses %s: longer than a year',
    (raw) => {
      const p = problemOf(parseDuration(raw, '168h'));
      expect(p).toContain('longer than a year');
      expect(p).toContain('e.g. 168h');
    },
  );

  test('the example given is the one in the problem', () => {
    expect(problemOf(parseDuration('soon', '30s'))).toMatch(/e\.g\. 30s$/);
  });

  test('property: any sequence of number+unit parts sums up, or is refused past a year', () => {
    const unitMs = { ms: 1, s: SEC, m: MIN, h: HOUR, d: DAY } as const;
    const part = fc.record({
      n: fc.integer({ min: 0, max: 500 }),
      unit: fc.constantFrom(...(Object.keys(unitMs) as Array<keyof typeof unitMs>)),
    });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const raw = parts.map((p) => `${p.n}${p.unit}`).join('');
        const want = parts.reduce((sum, p) => sum + p.n * unitMs[p.unit], 0);
        const got = parseDuration(raw);
        if (want > 366 * DAY) expect(got.ok).toBe(false);
        else expect(got).toEqual({ ok: true, value: want });
      }),
    );
  });
});

describe('parseSize', () => {
  test.each([
    ['400MB', 400_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['512', 512],
    ['1B', 1],
    ['1KB', 1000],
    ['1KiB', 1024],
    ['1k', 1024],
    ['2m', 2 * 1024 ** 2],
    ['20GB', 20_000_000_000],
    ['2TB', 2e12],
    ['1TiB', 1024 ** 4],
    ['400mb', 400_000_000],
    ['10 MB', 10_000_000],
  ])('%s → %d bytes', (raw, want) => {
    expect(valueOf(parseSize(raw))).toBe(want);
  });

  test.each(['400XB', '400MBs', 'MB', '', '1,5GB', '1.5.5GB', '.5GB', 'ten MB', '-1MB'])(
    'refuses %j',
    (raw) => {
      const p = problemOf(parseSize(raw));
      expect(p).toContain(`${show(raw)} is not a size`);
      expect(p).toContain('e.g. 400MB');
    },
  );

  test.each(['0', '0MB', '0.0GiB', '0.1B'])('refuses %s: not more than zero', (raw) => {
    expect(problemOf(parseSize(raw))).toContain('must be more than zero');
  });

  test('refuses a size too large to count in bytes', () => {
    expect(problemOf(parseSize('99999999999TB'))).toContain('too large');
  });
});

describe('parsePercent and parseSizeOrPercent', () => {
  test.each([
    ['1%', 1],
    ['80%', 80],
    ['100%', 100],
    ['50.5%', 50.5],
  ])('%s → %d', (raw, want) => {
    expect(valueOf(parsePercent(raw))).toBe(want);
  });

  test.each(['0%', '101%', '0.5%', '200%'])('refuses %s: out of range', (raw) => {
    expect(problemOf(parsePercent(raw))).toContain('out of range (1%-100%)');
  });

  test.each(['80', '-5%', '%', '80 %', 'eighty%'])('refuses %j: not a percentage', (raw) => {
    expect(problemOf(parsePercent(raw))).toContain('is not a percentage');
  });

  test('a size or a percentage', () => {
    expect(valueOf(parseSizeOrPercent('80%', '80% or 20GB'))).toEqual({ kind: 'percent', percent: 80 });
    expect(valueOf(parseSizeOrPercent('20GB', '80% or 20GB'))).toEqual({ kind: 'bytes', bytes: 20e9 });
    expect(problemOf(parseSizeOrPercent('lots', '80% or 20GB'))).toContain(
      'is neither a size nor a percentage; e.g. 80% or 20GB',
    );
    expect(problemOf(parseSizeOrPercent('150%', '80% or 20GB'))).toContain('out of range');
  });
});

describe('splitList', () => {
  test('splits on newlines (and commas when asked), trims, drops blanks and comments', () => {
    const raw = ' a, b \n\n# note\n  c\r\n#x,d';
    expect(splitList(raw, true)).toEqual(['a', 'b', 'c', 'd']);
    expect(splitList(raw, false)).toEqual(['a, b', 'c']);
    expect(splitList('', true)).toEqual([]);
  });
});

describe('parseKeyValues', () => {
  test('KEY=VALUE lines, in order; values keep their = signs; comments and blank lines are skipped', () => {
    const raw =
      '# build settings\nNODE_ENV=production\n\n   \nURL=https://x.example/?a=1&b=2\r\n  # indented comment\nEMPTY=\n_X1=a=b=c';
    expect(valueOf(parseKeyValues(raw, ENV_KEY, 'NODE_ENV=production'))).toEqual([
      ['NODE_ENV', 'production'],
      ['URL', 'https://x.example/?a=1&b=2'],
      ['EMPTY', ''],
      ['_X1', 'a=b=c'],
    ]);
  });

  test('duplicate keys are kept in order (the last one wins where it is applied)', () => {
    expect(valueOf(parseKeyValues('A=1\nA=2', ENV_KEY, 'A=1'))).toEqual([
      ['A', '1'],
      ['A', '2'],
    ]);
  });

  test('an empty text is an empty list', () => {
    expect(valueOf(parseKeyValues('', ENV_KEY, 'A=1'))).toEqual([]);
  });

  test.each(['A', '_a', 'NODE_ENV', 'a1_B2'])('env key %s is accepted', (key) => {
    expect(ENV_KEY.test(key)).toBe(true);
    expect(valueOf(parseKeyValues(`${key}=v`, ENV_KEY, 'A=1'))).toEqual([[key, 'v']]);
  });

  test.each(['1A', 'A-B', 'A B', 'A.B', 'ÄB', '$A', 'export A'])('env key %j is refused', (key) => {
    const p = problemOf(parseKeyValues(`OK=1\n${key}=v`, ENV_KEY, 'NODE_ENV=production'));
    expect(p).toContain(`has an invalid key ${show(key)}`);
    expect(p).toContain('e.g. NODE_ENV=production');
  });

  test('a line with an empty key is refused', () => {
    expect(problemOf(parseKeyValues('=v', ENV_KEY, 'A=1'))).toContain('invalid key ""');
  });

  test.each(['org.opencontainers.image.source', 'com.example/team', 'a-b', 'A_1', '0x'])(
    'label key %s is accepted',
    (key) => {
      expect(LABEL_KEY.test(key)).toBe(true);
      expect(valueOf(parseKeyValues(`${key}=v`, LABEL_KEY, 'org.example.team=payments'))).toEqual([
        [key, 'v'],
      ]);
    },
  );

  test.each(['-a', '.a', '/a', 'a b', 'a:b', 'a=b'.slice(0, 0)])('label key %j is refused', (key) => {
    expect(problemOf(parseKeyValues(`${key}=v`, LABEL_KEY, 'org.example.team=payments'))).toContain(
      'invalid key',
    );
  });

  test('a line without = is refused, quoted', () => {
    const p = problemOf(parseKeyValues('A=1\nJUST_A_KEY', ENV_KEY, 'A=1'));
    expect(p).toContain('line "JUST_A_KEY" is not KEY=VALUE');
  });

  test('a NUL character is refused', () => {
    expect(problemOf(parseKeyValues('A=x\0y', ENV_KEY, 'A=1'))).toContain('NUL');
  });

  describe('secret values (env) never appear in a problem', () => {
    const SECRET = 'hunter2-S3cr3t-value';
    test.each([
      ['an invalid key', `BAD-KEY=${SECRET}`],
      ['a NUL', `TOKEN=${SECRET}\0`],
      ['a line without =', `TOKEN: ${SECRET}`],
      ['a value on its own line', `TOKEN=abc\n${SECRET}`],
    ])('%s', (_what, raw) => {
      const p = problemOf(parseKeyValues(raw, ENV_KEY, 'NODE_ENV=production', true));
      expect(p).not.toContain(SECRET);
      expect(p).not.toContain('hunter2');
    });

    test('the problem still points at the line: its key, or its number', () => {
      expect(problemOf(parseKeyValues(`BAD-KEY=${SECRET}`, ENV_KEY, 'A=1', true))).toContain('"BAD-KEY"');
      expect(problemOf(parseKeyValues(`A=1\n\n${SECRET}`, ENV_KEY, 'A=1', true))).toContain('line 3 ');
    });

    test('without secret, the line is quoted as written', () => {
      expect(problemOf(parseKeyValues(`BAD-KEY=${SECRET}`, ENV_KEY, 'A=1'))).toContain(SECRET);
    });
  });
});

describe('TAG_RE: bare tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}', () => {
  test.each([
    'latest',
    'v1.2.0',
    '_x',
    '1',
    'A',
    'a-b_c.d',
    'UPPER',
    'x'.repeat(128),
    '20261201093000-abc1234',
  ])('accepts %s', (t) => {
    expect(TAG_RE.test(t)).toBe(true);
  });

  test.each(['', '.x', '-x', 'x'.repeat(129), 'a/b', 'a:b', 'a b', 'a@b', 'a+b', 'ä'])('refuses %j', (t) => {
    expect(TAG_RE.test(t)).toBe(false);
  });
});

describe('APP_RE: app names [a-z0-9][a-z0-9_.-]*', () => {
  test.each(['myapp', 'my-app', 'my_app', 'my.app', '0app', 'a', 'api2'])('accepts %s', (a) => {
    expect(APP_RE.test(a)).toBe(true);
  });

  test.each(['', 'MyApp', '-app', '_app', '.app', 'my app', 'my/app', 'app!', 'äpp'])('refuses %j', (a) => {
    expect(APP_RE.test(a)).toBe(false);
  });
});

describe('parseRepository: the distribution/reference grammar, without tag or digest', () => {
  test.each([
    ['myapp', undefined, 'myapp'],
    ['a', undefined, 'a'],
    ['acme/myapp', undefined, 'myapp'],
    ['acme/team/sub/myapp', undefined, 'myapp'],
    ['ghcr.io/acme/myapp', 'ghcr.io', 'myapp'],
    ['localhost/myapp', 'localhost', 'myapp'],
    ['localhost:5000/myapp', 'localhost:5000', 'myapp'],
    ['registry.example.com:5000/team/myapp', 'registry.example.com:5000', 'myapp'],
    ['192.168.1.10:5000/myapp', '192.168.1.10:5000', 'myapp'],
    ['[::1]:5000/myapp', '[::1]:5000', 'myapp'],
    ['[2001:db8::1]/acme/myapp', '[2001:db8::1]', 'myapp'],
    ['Registry.Example.COM/myapp', 'Registry.Example.COM', 'myapp'],
    ['my-registry.example.com/myapp', 'my-registry.example.com', 'myapp'],
    ['local_host/myapp', undefined, 'myapp'],
  ])('%s: domain %s, basename %s', (raw, domain, basename) => {
    const repo = valueOf(parseRepository(raw));
    expect(repo.name).toBe(raw);
    expect(repo.domain).toBe(domain);
    expect(repo.basename).toBe(basename);
  });

  test.each([
    'my.app',
    'my_app',
    'my__app',
    'my-app',
    'my--app',
    'my---app',
    'a.b_c__d-e--f',
    'acme/my.app_x__y-z',
    'app2/v1.0',
  ])('path separators . _ __ -+ are accepted: %s', (raw) => {
    expect(valueOf(parseRepository(raw)).name).toBe(raw);
  });

  test.each([
    'my..app',
    'my._app',
    'my___app',
    'my.-app',
    '_myapp',
    'myapp_',
    '-myapp',
    'myapp-',
    '.myapp',
    'my app',
  ])('a bad separator or a separator at an end is refused: %j', (raw) => {
    expect(problemOf(parseRepository(raw))).toContain('is not a valid image repository');
  });

  test.each(['MyApp', 'acme/MyApp', 'ghcr.io/Acme/myapp', 'localhost:5000/MyApp'])(
    'an upper-case path is refused: %s',
    (raw) => {
      const p = problemOf(parseRepository(raw));
      expect(p).toContain(show(raw));
      expect(p).toContain('lowercase');
      expect(p).toContain('e.g. myapp or ghcr.io/acme/myapp');
    },
  );

  test.each([
    'myapp:latest',
    'acme/myapp:1.0',
    'ghcr.io/acme/myapp:stable',
    'localhost:5000/myapp:v1',
    `myapp@sha256:${HEX64}`,
    `ghcr.io/acme/myapp:v1@sha256:${HEX64}`,
  ])('a tag or digest is refused, pointing at tags: %s', (raw) => {
    const p = problemOf(parseRepository(raw));
    expect(p).toContain('has a tag or digest');
    expect(p).toContain("'tags'");
  });

  test.each(['', 'acme//myapp', '/myapp', 'myapp/', 'ghcr.io/', 'ghcr.io//myapp', 'acme/myapp//'])(
    'an empty component is refused: %j',
    (raw) => {
      expect(problemOf(parseRepository(raw))).toContain('is not a valid image repository');
    },
  );

  test.each([
    'my_registry.io/myapp', // Docker takes the first component for a registry (it has a dot): not a domain
    '-bad.example.com/myapp',
    'bad-.example.com/myapp',
    'ghcr.io:port/myapp',
    '[::1/myapp',
    'UPPER_CASE/myapp',
  ])('a registry part Docker would take for a domain must be one: %s', (raw) => {
    expect(parseRepository(raw).ok).toBe(false);
  });

  test('at most 255 characters', () => {
    const at255 = 'ab/'.repeat(84) + 'abc'; // 84 * 3 + 3 = 255
    expect(at255).toHaveLength(255);
    expect(valueOf(parseRepository(at255)).basename).toBe('abc');
    const p = problemOf(parseRepository(at255 + 'd'));
    expect(p).toContain('longer than 255 characters');
  });

  test('a 64-character hex string is refused, as Docker refuses it (it reads as an image ID)', () => {
    expect(problemOf(parseRepository(HEX64))).toContain('64-character hex');
    expect(valueOf(parseRepository(HEX64.slice(1))).name).toBe(HEX64.slice(1));
  });
});

describe('isImageReference: full references repo[:tag][@digest]', () => {
  test.each([
    'myapp:v1',
    'ghcr.io/acme/myapp:stable',
    'docker.io/library/nginx',
    'localhost:5000/myapp:v1',
    'localhost:5000',
    '[::1]:5000/myapp:edge',
    `myapp@sha256:${HEX64}`,
    `ghcr.io/acme/myapp:v1@sha256:${HEX64}`,
    `myapp:${'t'.repeat(128)}`,
  ])('accepts %s', (raw) => {
    expect(isImageReference(raw)).toBe(true);
  });

  test.each([
    'ghcr.io/acme/MyApp:v1',
    'myapp:-bad',
    'myapp:',
    `myapp:${'t'.repeat(129)}`,
    'myapp:bad tag',
    'myapp@sha256:abc',
    'myapp@',
    'my_registry.io/myapp:v1',
    'acme//myapp:v1',
    `${'a'.repeat(256)}:v1`,
    `${HEX64}:v1`,
  ])('refuses %s', (raw) => {
    expect(isImageReference(raw)).toBe(false);
  });
});

describe('parsePlatforms', () => {
  test('auto', () => {
    expect(valueOf(parsePlatforms('auto'))).toBe('auto');
  });

  test.each(KNOWN_PLATFORMS)('known platform %s', (p) => {
    expect(valueOf(parsePlatforms(p))).toEqual([p]);
  });

  test('several, comma or newline separated, trimmed', () => {
    expect(valueOf(parsePlatforms(' linux/amd64 , linux/arm64\nlinux/arm/v7 '))).toEqual([
      'linux/amd64',
      'linux/arm64',
      'linux/arm/v7',
    ]);
  });

  test.each(['linux/sparc', 'darwin/arm64', 'linux/arm/v9', 'freebsd/amd64'])('unknown platform %s', (p) => {
    const got = problemOf(parsePlatforms(`linux/amd64,${p}`));
    expect(got).toContain(`${show(p)} is not a known platform`);
    expect(got).toContain('e.g. linux/amd64');
  });

  test.each([
    'linux',
    'Linux/AMD64',
    'linux/amd64/v2/x',
    'linux/amd64;id',
    'linux amd64',
    '/amd64',
    'auto,linux/amd64',
  ])('malformed %j', (raw) => {
    expect(problemOf(parsePlatforms(raw))).toContain('is not os/arch[/variant]');
  });

  test('a list naming nothing', () => {
    expect(problemOf(parsePlatforms(' , '))).toContain('names no platform');
  });
});

describe('parseHost', () => {
  test.each([
    ['deploy.example.com', 'deploy.example.com'],
    ['localhost', 'localhost'],
    ['my-host', 'my-host'],
    ['Deploy.Example.COM', 'Deploy.Example.COM'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['host1.123', 'host1.123'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    ['203.0.113.10', '203.0.113.10'],
    ['10.0.0.1', '10.0.0.1'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[::1]', '::1'],
  ])('%s → %s', (raw, want) => {
    expect(valueOf(parseHost(raw))).toBe(want);
  });

  test.each([
    'host;rm -rf /',
    'host && id',
    'host|nc',
    '$(id)',
    '`id`',
    'host>x',
    '-oProxyCommand=id',
    '-host',
    'host-',
    'host-.example.com',
    'a..b',
    '.host',
    'host.',
    '',
    'user@host',
    'host:22',
    'deploy example.com',
    'my_host.example.com',
    '[deploy.example.com]',
    `${'a'.repeat(64)}.com`,
    'a.'.repeat(127) + 'a',
    '999.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    'fe80::1%eth0;id',
    "host'",
    'host\n',
  ])('refuses %j', (raw) => {
    const p = problemOf(parseHost(raw));
    expect(p).toContain('is not a hostname or IP address');
    expect(p).toContain('e.g. deploy.example.com or 203.0.113.10');
  });
});

describe('parseUsername', () => {
  test.each(['deploy', 'root', '_svc', 'Deploy', 'user.name', 'user-1', 'u', 'a'.repeat(64)])(
    'accepts %s',
    (u) => {
      expect(valueOf(parseUsername(u))).toBe(u);
    },
  );

  test.each([
    '-oops',
    '1user',
    '.user',
    'user name',
    'user;id',
    'user@host',
    '',
    'a'.repeat(65),
    '$(id)',
    'usér',
  ])('refuses %j', (u) => {
    expect(problemOf(parseUsername(u))).toContain('e.g. deploy');
  });
});

describe('parseRemotePath', () => {
  test.each(['/srv/myapp/.env', '/', '/a/./b', '/a..b/c', '/srv/my app/x', '/srv//x'])('accepts %j', (p) => {
    expect(valueOf(parseRemotePath(p, '/srv/x'))).toBe(p);
  });

  test.each([
    ['srv/x', 'is not an absolute path'],
    ['./x', 'is not an absolute path'],
    ['~/x', 'is not an absolute path'],
    ['', 'is not an absolute path'],
    ['/srv/../etc', "'..'"],
    ['/..', "'..'"],
    ['/srv/..', "'..'"],
    ['/a\0b', 'NUL or newline'],
    ['/a\nb', 'NUL or newline'],
    ['/a\rb', 'NUL or newline'],
  ])('refuses %j', (p, why) => {
    const got = problemOf(parseRemotePath(p, '/srv/myapp/.env'));
    expect(got).toContain(why);
    expect(got).toContain('e.g. /srv/myapp/.env');
  });
});

describe('parseVolumes', () => {
  test('source:target[:ro|rw] lines; comments and blank lines skipped', () => {
    const raw =
      '/srv/data:/data:ro\n\n# named volume\nappdata:/var/lib/app\n/srv/cfg:/etc/app:rw\n  db_v1.x:/db  ';
    expect(valueOf(parseVolumes(raw))).toEqual([
      { source: '/srv/data', target: '/data', readOnly: true },
      { source: 'appdata', target: '/var/lib/app', readOnly: false },
      { source: '/srv/cfg', target: '/etc/app', readOnly: false },
      { source: 'db_v1.x', target: '/db', readOnly: false },
    ]);
    expect(valueOf(parseVolumes(''))).toEqual([]);
  });

  test.each([
    ['/srv/data', 'is not source:target[:ro]'],
    ['a:/b:ro:x', 'is not source:target[:ro]'],
    ['/srv:/data:z', 'has mode "z"'],
    ['/srv:/data:RO', 'has mode "RO"'],
    ['relative/path:/data', 'neither an absolute path nor a volume name'],
    ['x:/data', 'neither an absolute path nor a volume name'],
    ['-vol:/data', 'neither an absolute path nor a volume name'],
    [':/data', 'neither an absolute path nor a volume name'],
    ['data:relative', 'target'],
    ['data:', 'target'],
    ['/srv/../etc:/data', 'source "/srv/../etc" contains a \'..\''],
    ['/srv:/data/../etc', "'..'"],
    ['/srv:/', 'target cannot be /'],
    ['/a:/data\n/b:/data/', 'mounted twice'],
  ])('refuses %j', (raw, why) => {
    const p = problemOf(parseVolumes(raw));
    expect(p).toContain(why);
    expect(p).toContain('e.g. /srv/data:/data:ro or appdata:/data');
  });
});

describe('parseRestart', () => {
  test.each([
    ['no', { name: 'no', maxRetries: 0 }],
    ['always', { name: 'always', maxRetries: 0 }],
    ['unless-stopped', { name: 'unless-stopped', maxRetries: 0 }],
    ['on-failure', { name: 'on-failure', maxRetries: 0 }],
    ['on-failure:5', { name: 'on-failure', maxRetries: 5 }],
    ['on-failure:9999', { name: 'on-failure', maxRetries: 9999 }],
  ])('%s', (raw, want) => {
    expect(valueOf(parseRestart(raw))).toEqual(want);
  });

  test.each([
    'never',
    'No',
    'always:3',
    'unless-stopped:1',
    'on-failure:',
    'on-failure:-1',
    'on-failure:x',
    'on-failure:10000',
    '',
  ])('refuses %j', (raw) => {
    expect(problemOf(parseRestart(raw))).toContain('no, always, unless-stopped, on-failure[:N]');
  });
});

describe('parseFingerprint', () => {
  const b64 = 'nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';

  test('SHA256: and 43 base64 characters; a trailing = is dropped', () => {
    expect(valueOf(parseFingerprint(`SHA256:${b64}`))).toBe(`SHA256:${b64}`);
    expect(valueOf(parseFingerprint(`SHA256:${b64}=`))).toBe(`SHA256:${b64}`);
    expect(valueOf(parseFingerprint(`SHA256:${'+/'.repeat(21)}A`))).toBe(`SHA256:${'+/'.repeat(21)}A`);
  });

  test.each([
    `SHA256:${b64.slice(1)}`,
    `SHA256:${b64}A`,
    `sha256:${b64}`,
    b64,
    `SHA256: ${b64}`,
    `SHA256:${b64.slice(1)}!`,
    `SHA256:${b64}==`,
    'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48',
    '',
  ])('refuses %j', (raw) => {
    const p = problemOf(parseFingerprint(raw));
    expect(p).toContain("'ssh-keygen -lf'");
    expect(p).toMatch(/e\.g\. SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
