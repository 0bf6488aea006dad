// The blue/green decisions from what was observed on the host: which color serves, which to start,
// what the nginx upstream file says, and what a rollback goes back to.
import fc from 'fast-check';
import type { DeployConfig } from '../../src/config/schema.js';
import {
  activeColor,
  colorOfPort,
  COLORS,
  other,
  planDeploy,
  planRollback,
  upstreamContent,
  upstreamPorts,
  type Color,
  type DeployRecord,
  type ObservedContainer,
  type ObservedState,
} from '../../src/deploy/plan.js';

type Cfg = Pick<DeployConfig, 'ports' | 'proxy' | 'rollbackTo'>;
const CFG: Cfg = { ports: { blue: 3001, green: 3002 }, proxy: 'nginx', rollbackTo: 'previous' };
const NO_PROXY: Cfg = { ...CFG, proxy: 'none' };

function box(color: Color, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `${color}-id`,
    name: `myapp-${color}`,
    running: true,
    state: over.running === false ? 'exited' : 'running',
    imageId: `sha256:${color}`,
    buildTag: `tag-${color}`,
    created: 1000,
    ...over,
  };
}

function rec(color: Color, over: Partial<DeployRecord> = {}): DeployRecord {
  return {
    at: '2026-12-01T09:30:05Z',
    app: 'myapp',
    color,
    buildTag: `tag-${color}`,
    imageId: `sha256:${color}`,
    command: 'deploy',
    result: 'success',
    ...over,
  };
}

const file = (port: number) => upstreamContent('127.0.0.1', port);

function state(
  containers: Partial<Record<Color, ObservedContainer>>,
  more: { upstream?: string; history?: DeployRecord[] } = {},
): ObservedState {
  return {
    containers,
    history: more.history ?? [],
    ...(more.upstream !== undefined ? { upstream: more.upstream } : {}),
  };
}

describe('upstreamPorts', () => {
  it('a plain server line', () => {
    expect(upstreamPorts('server 127.0.0.1:3001;')).toEqual([3001]);
    expect(upstreamPorts('server 127.0.0.1:3001;\n')).toEqual([3001]);
  });

  it('a server line with options', () => {
    expect(upstreamPorts('server 127.0.0.1:3002 max_fails=3 fail_timeout=5s;')).toEqual([3002]);
    expect(upstreamPorts('  server localhost:3001 weight=5 backup;')).toEqual([3001]);
    expect(upstreamPorts('\tserver\t127.0.0.1:3002\tmax_conns=100 ;')).toEqual([3002]);
  });

  it('comments are not servers', () => {
    const text = [
      '# managed by docker-bluegreen-action',
      '# server 127.0.0.1:3002;',
      '    #server 127.0.0.1:3002;',
      'server 127.0.0.1:3001; # was 3002 until today',
    ].join('\n');
    expect(upstreamPorts(text)).toEqual([3001]);
  });

  it('several servers, in file order', () => {
    const text =
      'upstream myapp {\n  server 127.0.0.1:3002;\n  server 10.0.0.7:3001 backup;\n  keepalive 16;\n}\n';
    expect(upstreamPorts(text)).toEqual([3002, 3001]);
  });

  it('IPv6 addresses in brackets', () => {
    expect(upstreamPorts('server [::1]:3001;')).toEqual([3001]);
    expect(upstreamPorts('server [2001:db8::10]:3002 max_fails=2;')).toEqual([3002]);
    expect(upstreamPorts('server [::ffff:127.0.0.1]:3001;\nserver 127.0.0.1:3002;')).toEqual([3001, 3002]);
  });

  it('the port is the whole number after the last colon', () => {
    expect(upstreamPorts('server 127.0.0.1:30011;')).toEqual([30011]);
    expect(upstreamPorts('server 127.0.0.1:300;')).toEqual([300]);
  });

  it('no port, a socket, or other directives: nothing', () => {
    for (const t of [
      '',
      'server 127.0.0.1;',
      'server unix:/run/myapp.sock;',
      'listen 3001;',
      'proxy_pass http://127.0.0.1:3001;',
      'server_name example.com:3001;',
      'server 127.0.0.1:3001x;',
    ])
      expect(upstreamPorts(t)).toEqual([]);
  });

  it('reads back every file the action writes, whatever the bind address', () => {
    for (const a of ['127.0.0.1', '0.0.0.0', '10.1.2.3', '::1', '::', '2001:db8::1', 'fe80::1'])
      for (const p of [1, 3001, 65535]) expect(upstreamPorts(upstreamContent(a, p))).toEqual([p]);
  });
});

describe('colorOfPort', () => {
  it('maps the configured ports to their colors, and nothing else', () => {
    expect(colorOfPort(CFG, 3001)).toBe('blue');
    expect(colorOfPort(CFG, 3002)).toBe('green');
    expect(colorOfPort(CFG, 3003)).toBeUndefined();
    expect(colorOfPort(CFG, 80)).toBeUndefined();
    expect(colorOfPort({ ports: { blue: 9000, green: 8000 } }, 8000)).toBe('green');
    expect(colorOfPort({ ports: { blue: 9000, green: 8000 } }, 3001)).toBeUndefined();
  });
});

describe('activeColor', () => {
  it('nginx: the color the file points at, when it runs', () => {
    const v = activeColor(CFG, state({ blue: box('blue'), green: box('green') }, { upstream: file(3002) }));
    expect(v.active).toBe('green');
    expect(v.why).toMatch(/upstream file points at green \(port 3002\)/);
  });

  it('nginx: the file wins over the history', () => {
    const v = activeColor(
      CFG,
      state({ blue: box('blue'), green: box('green') }, { upstream: file(3001), history: [rec('green')] }),
    );
    expect(v.active).toBe('blue');
  });

  it('nginx: the file points at a stopped color → none active, even if the other runs', () => {
    const v = activeColor(
      CFG,
      state({ blue: box('blue'), green: box('green', { running: false }) }, { upstream: file(3002) }),
    );
    expect(v.active).toBeUndefined();
    expect(v.why).toMatch(/points at green, but green is not running/);
    const gone = activeColor(CFG, state({ blue: box('blue') }, { upstream: file(3002) }));
    expect(gone.active).toBeUndefined();
  });

  it('nginx: the file points at both colors → none active', () => {
    const both = 'server 127.0.0.1:3001;\nserver 127.0.0.1:3002;\n';
    const v = activeColor(CFG, state({ blue: box('blue'), green: box('green') }, { upstream: both }));
    expect(v.active).toBeUndefined();
    expect(v.why).toMatch(/both colors/);
  });

  it('nginx: the same color twice is still one color', () => {
    const twice = 'server 127.0.0.1:3001;\nserver [::1]:3001;\n';
    expect(
      activeColor(CFG, state({ blue: box('blue'), green: box('green') }, { upstream: twice })).active,
    ).toBe('blue');
  });

  it('nginx over IPv6: the file the action wrote for [::1] is understood', () => {
    const v = activeColor(
      CFG,
      state({ blue: box('blue'), green: box('green') }, { upstream: upstreamContent('::1', 3002) }),
    );
    expect(v.active).toBe('green');
  });

  it('nginx: a file naming neither port falls back to the running containers', () => {
    const v = activeColor(CFG, state({ green: box('green') }, { upstream: 'server 127.0.0.1:8080;\n' }));
    expect(v.active).toBe('green');
  });

  it('no file: the only running color', () => {
    const v = activeColor(CFG, state({ blue: box('blue', { running: false }), green: box('green') }));
    expect(v.active).toBe('green');
    expect(v.why).toMatch(/only running color/);
    expect(activeColor(CFG, state({ blue: box('blue') })).active).toBe('blue');
  });

  it('the file is ignored unless the proxy is nginx', () => {
    for (const proxy of ['none', 'command'] as const) {
      const v = activeColor({ ...CFG, proxy }, state({ blue: box('blue') }, { upstream: file(3002) }));
      expect(v.active).toBe('blue');
    }
  });

  it('both running, no file: the color of the last successful deploy', () => {
    const history = [rec('blue', { result: 'failed' }), rec('green'), rec('blue')];
    const v = activeColor(
      NO_PROXY,
      state({ blue: box('blue', { created: 9000 }), green: box('green', { created: 1 }) }, { history }),
    );
    expect(v.active).toBe('green');
    expect(v.why).toMatch(/last successful deploy started green/);
  });

  it('both running, no successful deploy on record: the newer container', () => {
    const s = (b: number, g: number, history: DeployRecord[] = []) =>
      state({ blue: box('blue', { created: b }), green: box('green', { created: g }) }, { history });
    expect(activeColor(NO_PROXY, s(100, 200)).active).toBe('green');
    expect(activeColor(NO_PROXY, s(300, 200)).active).toBe('blue');
    expect(activeColor(NO_PROXY, s(100, 200, [rec('blue', { result: 'failed' })])).active).toBe('green');
    expect(activeColor(NO_PROXY, s(100, 200)).why).toMatch(/green is the newer container/);
  });

  it('nothing running: none active', () => {
    for (const s of [
      state({}),
      state({ blue: box('blue', { running: false }), green: box('green', { running: false }) }),
      state({}, { history: [rec('blue')] }),
    ]) {
      const v = activeColor(NO_PROXY, s);
      expect(v.active).toBeUndefined();
      expect(v.why).toMatch(/no color is running/);
    }
    expect(activeColor(CFG, state({}, { upstream: file(3001) })).active).toBeUndefined();
  });
});

describe('planDeploy', () => {
  it('first deploy: blue, nothing to replace, no old color', () => {
    const p = planDeploy(CFG, state({}));
    expect(p).toEqual({ newColor: 'blue', why: 'no color is running (first deploy)' });
  });

  it('blue serves: green, and the stale green container is replaced', () => {
    const stale = box('green', { running: false, imageId: 'sha256:older' });
    const p = planDeploy(CFG, state({ blue: box('blue'), green: stale }, { upstream: file(3001) }));
    expect(p.newColor).toBe('green');
    expect(p.oldColor).toBe('blue');
    expect(p.replace).toBe(stale);
  });

  it('green serves and no blue container: blue, nothing to replace', () => {
    const p = planDeploy(CFG, state({ green: box('green') }, { upstream: file(3002) }));
    expect(p.newColor).toBe('blue');
    expect(p.oldColor).toBe('green');
    expect(p).not.toHaveProperty('replace');
  });

  it('nothing serves but a stopped blue is left: blue, replacing it', () => {
    const left = box('blue', { running: false });
    const p = planDeploy(NO_PROXY, state({ blue: left }));
    expect(p.newColor).toBe('blue');
    expect(p).not.toHaveProperty('oldColor');
    expect(p.replace).toBe(left);
  });

  it('alternates blue, green, blue, … deploy after deploy', () => {
    for (const cfg of [CFG, NO_PROXY]) {
      let s: ObservedState = state({});
      const colors: Color[] = [];
      for (let i = 0; i < 6; i++) {
        const p = planDeploy(cfg, s);
        colors.push(p.newColor);
        const containers: Partial<Record<Color, ObservedContainer>> = {
          [p.newColor]: box(p.newColor, { created: 100 + i, imageId: `sha256:build${i}` }),
          ...(p.oldColor ? { [p.oldColor]: { ...s.containers[p.oldColor]!, running: false } } : {}),
        };
        s = {
          containers,
          history: [rec(p.newColor, { imageId: `sha256:build${i}` }), ...s.history],
          ...(cfg.proxy === 'nginx' ? { upstream: file(cfg.ports[p.newColor]) } : {}),
        };
      }
      expect(colors).toEqual(['blue', 'green', 'blue', 'green', 'blue', 'green']);
    }
  });

  it('alternates too when the old color keeps running (keep-old-container with both up)', () => {
    let s: ObservedState = state({});
    const colors: Color[] = [];
    for (let i = 0; i < 4; i++) {
      const p = planDeploy(NO_PROXY, s);
      colors.push(p.newColor);
      s = {
        containers: { ...s.containers, [p.newColor]: box(p.newColor, { created: i }) },
        history: [rec(p.newColor), ...s.history],
      };
    }
    expect(colors).toEqual(['blue', 'green', 'blue', 'green']);
  });
});

describe('upstreamContent', () => {
  it('0.0.0.0 is reached on 127.0.0.1', () => {
    expect(upstreamContent('0.0.0.0', 3001)).toBe(
      "# managed by docker-bluegreen-action: the serving color's address\nserver 127.0.0.1:3001;\n",
    );
  });

  it('IPv4 addresses as they are', () => {
    expect(upstreamContent('127.0.0.1', 3002)).toMatch(/\nserver 127\.0\.0\.1:3002;\n$/);
    expect(upstreamContent('10.0.0.5', 8080)).toMatch(/\nserver 10\.0\.0\.5:8080;\n$/);
  });

  it('IPv6 addresses in brackets; :: is reached on [::1]', () => {
    expect(upstreamContent('::1', 3001)).toMatch(/\nserver \[::1\]:3001;\n$/);
    expect(upstreamContent('2001:db8::1', 3002)).toMatch(/\nserver \[2001:db8::1\]:3002;\n$/);
    expect(upstreamContent('::', 3001)).toMatch(/\nserver \[::1\]:3001;\n$/);
  });

  it('ends with a newline and has exactly one server line', () => {
    for (const a of ['127.0.0.1', '0.0.0.0', '::1', '::', '192.168.1.20'])
      for (const p of [3001, 65535]) {
        const c = upstreamContent(a, p);
        expect(c.endsWith('\n')).toBe(true);
        expect(c.endsWith('\n\n')).toBe(false);
        const lines = c.split('\n').filter((l) => l.trim() !== '');
        expect(lines.filter((l) => /^\s*server\s/.test(l))).toHaveLength(1);
        expect(lines.every((l) => /^\s*(server\s|#)/.test(l))).toBe(true);
      }
  });
});

describe('planRollback', () => {
  const images = (entries: Array<[string, string]>) => new Map(entries);

  it('previous: the kept container of the idle color', () => {
    const kept = box('green', { running: false, imageId: 'sha256:old', buildTag: 'v1' });
    const t = planRollback(
      CFG,
      state({ blue: box('blue', { imageId: 'sha256:new' }), green: kept }, { upstream: file(3001) }),
      images([['v1', 'sha256:old']]),
    );
    expect(t).toEqual({ kind: 'container', color: 'green', container: kept, buildTag: 'v1' });
  });

  it('previous: a kept container without a build tag label carries no build tag', () => {
    const { buildTag: _unlabelled, ...kept } = box('blue', { running: false, imageId: 'sha256:old' });
    const t = planRollback(
      CFG,
      state({ blue: kept, green: box('green') }, { upstream: file(3002) }),
      images([]),
    );
    expect(t).toEqual({ kind: 'container', color: 'blue', container: kept });
  });

  it("previous: the kept container is gone → the previous successful deploy's image still on the host", () => {
    const history = [
      rec('blue', { imageId: 'sha256:new', buildTag: 'v3' }),
      rec('green', { imageId: 'sha256:broken', buildTag: 'v2.1', result: 'failed' }),
      rec('green', { imageId: 'sha256:v2', buildTag: 'v2' }),
      rec('blue', { imageId: 'sha256:v1', buildTag: 'v1' }),
    ];
    const t = planRollback(
      CFG,
      state({ blue: box('blue', { imageId: 'sha256:new' }) }, { upstream: file(3001), history }),
      images([
        ['v3', 'sha256:new'],
        ['v2.1', 'sha256:broken'],
        ['v2', 'sha256:v2'],
        ['v1', 'sha256:v1'],
      ]),
    );
    expect(t).toEqual({ kind: 'image', color: 'green', imageId: 'sha256:v2', buildTag: 'v2' });
  });

  it('previous: skips deploys whose image retention already removed', () => {
    const history = [
      rec('green', { imageId: 'sha256:new', buildTag: 'v3' }),
      rec('blue', { imageId: 'sha256:v2', buildTag: 'v2' }),
      rec('green', { imageId: 'sha256:v1', buildTag: 'v1' }),
    ];
    const t = planRollback(
      NO_PROXY,
      state({ green: box('green', { imageId: 'sha256:new' }) }, { history }),
      images([
        ['v3', 'sha256:new'],
        ['v1', 'sha256:v1'],
      ]),
    );
    expect(t).toEqual({ kind: 'image', color: 'blue', imageId: 'sha256:v1', buildTag: 'v1' });
  });

  it('previous: a kept container running the same image is no rollback; the history is used', () => {
    const history = [
      rec('green', { imageId: 'sha256:same', buildTag: 'v2' }),
      rec('blue', { imageId: 'sha256:same', buildTag: 'v2' }),
      rec('green', { imageId: 'sha256:v1', buildTag: 'v1' }),
    ];
    const t = planRollback(
      CFG,
      state(
        {
          blue: box('blue', { running: false, imageId: 'sha256:same' }),
          green: box('green', { imageId: 'sha256:same' }),
        },
        { upstream: file(3002), history },
      ),
      images([
        ['v2', 'sha256:same'],
        ['v1', 'sha256:v1'],
      ]),
    );
    expect(t).toEqual({ kind: 'image', color: 'blue', imageId: 'sha256:v1', buildTag: 'v1' });
  });

  it('previous: nothing left on the host → none, saying why', () => {
    const t = planRollback(
      CFG,
      state(
        { blue: box('blue', { imageId: 'sha256:new' }) },
        {
          upstream: file(3001),
          history: [rec('blue', { imageId: 'sha256:new' }), rec('green', { imageId: 'sha256:gone' })],
        },
      ),
      images([['v3', 'sha256:new']]),
    );
    expect(t.kind).toBe('none');
    expect(t.kind === 'none' && t.reason).toMatch(
      /no previous version .* green container and its image are gone/,
    );
  });

  it('a build tag on the host: that image, in the idle color', () => {
    const t = planRollback(
      { ...CFG, rollbackTo: { buildTag: 'v1' } },
      state(
        {
          blue: box('blue', { imageId: 'sha256:new' }),
          green: box('green', { running: false, imageId: 'sha256:v2' }),
        },
        { upstream: file(3001) },
      ),
      images([
        ['v3', 'sha256:new'],
        ['v2', 'sha256:v2'],
        ['v1', 'sha256:v1'],
      ]),
    );
    expect(t).toEqual({ kind: 'image', color: 'green', imageId: 'sha256:v1', buildTag: 'v1' });
  });

  it('a build tag not on the host → none, listing the tags that are', () => {
    const t = planRollback(
      { ...CFG, rollbackTo: { buildTag: 'v0' } },
      state({ blue: box('blue', { imageId: 'sha256:new' }) }, { upstream: file(3001) }),
      images([
        ['v3', 'sha256:new'],
        ['v2', 'sha256:v2'],
      ]),
    );
    expect(t).toEqual({ kind: 'none', reason: 'build tag v0 is not on the host (tags there: v3, v2)' });
    const empty = planRollback(
      { ...CFG, rollbackTo: { buildTag: 'v0' } },
      state({ blue: box('blue') }, { upstream: file(3001) }),
      images([]),
    );
    expect(empty.kind === 'none' && empty.reason).toMatch(/tags there: none\)/);
  });

  it('a build tag not on the host lists at most 10 tags', () => {
    const many = images(Array.from({ length: 15 }, (_, i) => [`t${i}`, `sha256:${i}`] as [string, string]));
    const t = planRollback({ ...CFG, rollbackTo: { buildTag: 'nope' } }, state({ blue: box('blue') }), many);
    expect(t.kind === 'none' && t.reason).toBe(
      'build tag nope is not on the host (tags there: t0, t1, t2, t3, t4, t5, t6, t7, t8, t9)',
    );
  });

  it('a build tag already serving → none', () => {
    const t = planRollback(
      { ...CFG, rollbackTo: { buildTag: 'v3' } },
      state({ green: box('green', { imageId: 'sha256:new' }) }, { upstream: file(3002) }),
      images([['v3', 'sha256:new']]),
    );
    expect(t).toEqual({ kind: 'none', reason: 'build tag v3 is already serving (green)' });
  });

  it('nothing active → none, for previous and for a build tag', () => {
    for (const rollbackTo of ['previous', { buildTag: 'v1' }] as const) {
      const t = planRollback(
        { ...CFG, rollbackTo },
        state({ blue: box('blue', { running: false }) }, { history: [rec('blue')] }),
        images([['v1', 'sha256:v1']]),
      );
      expect(t).toEqual({
        kind: 'none',
        reason: 'nothing to roll back from: no color is running (first deploy)',
      });
    }
  });
});

describe('properties', () => {
  const containerArb = (color: Color) =>
    fc.option(
      fc
        .record({
          running: fc.boolean(),
          created: fc.integer({ min: 0, max: 1_000_000 }),
          image: fc.integer({ min: 0, max: 3 }),
        })
        .map(({ running, created, image }) => box(color, { running, created, imageId: `sha256:${image}` })),
      { nil: undefined },
    );
  const upstreamArb = fc.option(
    fc.constantFrom(
      file(3001),
      file(3002),
      upstreamContent('::1', 3001),
      upstreamContent('0.0.0.0', 3002),
      'server 127.0.0.1:3001;\nserver 127.0.0.1:3002;\n',
      'server 127.0.0.1:9999;\n',
      '',
      '# nothing here\n',
    ),
    { nil: undefined },
  );
  const historyArb = fc.array(
    fc
      .record({
        color: fc.constantFrom<Color>('blue', 'green'),
        result: fc.constantFrom<'success' | 'failed'>('success', 'failed'),
        image: fc.integer({ min: 0, max: 3 }),
      })
      .map(({ color, result, image }) =>
        rec(color, { result, imageId: `sha256:${image}`, buildTag: `t${image}` }),
      ),
    { maxLength: 5 },
  );
  const stateArb: fc.Arbitrary<ObservedState> = fc
    .record({
      blue: containerArb('blue'),
      green: containerArb('green'),
      upstream: upstreamArb,
      history: historyArb,
    })
    .map(({ blue, green, upstream, history }) =>
      state(
        { ...(blue ? { blue } : {}), ...(green ? { green } : {}) },
        { history, ...(upstream !== undefined ? { upstream } : {}) },
      ),
    );
  const cfgArb = fc.constantFrom<Cfg>(CFG, NO_PROXY, { ...CFG, proxy: 'command' });

  it('planDeploy never picks the active color', () => {
    fc.assert(
      fc.property(cfgArb, stateArb, (cfg, s) => {
        const active = activeColor(cfg, s).active;
        expect(planDeploy(cfg, s).newColor).not.toBe(active);
      }),
    );
  });

  it('with an active color: newColor = other(active), oldColor = active, replace = that color’s container', () => {
    fc.assert(
      fc.property(cfgArb, stateArb, (cfg, s) => {
        const active = activeColor(cfg, s).active;
        fc.pre(active !== undefined);
        const p = planDeploy(cfg, s);
        expect(p.newColor).toBe(other(active!));
        expect(p.oldColor).toBe(active);
        expect(p.replace).toBe(s.containers[other(active!)]);
      }),
    );
  });

  it('the active color is always a running one; with none active, the new color is blue', () => {
    fc.assert(
      fc.property(cfgArb, stateArb, (cfg, s) => {
        const active = activeColor(cfg, s).active;
        if (active) expect(s.containers[active]?.running).toBe(true);
        else expect(planDeploy(cfg, s).newColor).toBe('blue');
        expect(COLORS).toContain(planDeploy(cfg, s).newColor);
      }),
    );
  });

  it('a rollback never targets the serving color, and never the serving image', () => {
    fc.assert(
      fc.property(
        cfgArb,
        stateArb,
        fc.constantFrom('previous' as const, { buildTag: 't1' }),
        (cfg, s, rollbackTo) => {
          const images = new Map([
            ['t0', 'sha256:0'],
            ['t1', 'sha256:1'],
          ]);
          const active = activeColor(cfg, s).active;
          const t = planRollback({ ...cfg, rollbackTo }, s, images);
          if (t.kind === 'none') return;
          expect(t.color).toBe(other(active!));
          const served = s.containers[active!]!.imageId;
          expect(t.kind === 'container' ? t.container.imageId : t.imageId).not.toBe(served);
        },
      ),
    );
  });
});
