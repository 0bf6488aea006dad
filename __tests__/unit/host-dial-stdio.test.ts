import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { DialStdioAgent, type ChannelOpener } from '../../src/host/dial-stdio.js';

// The agent under test is real; the SSH connection is replaced by plain TCP connections to an
// HTTP server in this process (what `docker system dial-stdio` would be on the host).
let server: http.Server;
let port = 0;
let delayMs = 10;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    setTimeout(() => res.end(JSON.stringify({ path: req.url })), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  delayMs = 10;
});

function opener(refuseAbove = Infinity): ChannelOpener & { execs: number; maxLive: number } {
  let live = 0;
  const o = {
    execs: 0,
    maxLive: 0,
    exec(_cmd: string, cb: (err: Error | undefined, ch: ClientChannel) => void) {
      o.execs++;
      // Like sshd's MaxSessions: past the limit the channel open is refused.
      if (live >= refuseAbove) {
        setImmediate(() => cb(new Error('(SSH) Channel open failure: open failed'), undefined as never));
        return;
      }
      live++;
      o.maxLive = Math.max(o.maxLive, live);
      const sock = net.connect(port, '127.0.0.1');
      sock.on('close', () => live--);
      const ch = Object.assign(sock, { stderr: new PassThrough(), close: () => sock.destroy() });
      // exec answers asynchronously, as ssh2 does.
      sock.once('connect', () => cb(undefined, ch as unknown as ClientChannel));
    },
  };
  return o;
}

function get(agent: http.Agent, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: 'docker', port: 80, path, agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body).path));
    });
    req.on('error', reject);
  });
}

describe('DialStdioAgent', () => {
  test('40 requests issued together open at most 4 channels and all succeed', async () => {
    const conn = opener(10);
    const agent = new DialStdioAgent(conn, 'test@host', 4);
    const paths = Array.from({ length: 40 }, (_, i) => `/images/${i}/json`);
    const got = await Promise.all(paths.map((p) => get(agent, p)));
    expect(got).toEqual(paths);
    expect(agent.peak).toBeLessThanOrEqual(4);
    expect(conn.maxLive).toBeLessThanOrEqual(4);
    agent.destroy();
  });

  test('idle kept-alive channels are reused by later requests', async () => {
    const conn = opener();
    const agent = new DialStdioAgent(conn, 'test@host', 4);
    await Promise.all([get(agent, '/a'), get(agent, '/b')]);
    const before = conn.execs;
    for (let i = 0; i < 5; i++) await get(agent, `/seq/${i}`);
    expect(conn.execs).toBe(before);
    agent.destroy();
  });

  test('a long request holding a channel does not stop the others', async () => {
    const conn = opener(10);
    const agent = new DialStdioAgent(conn, 'test@host', 2);
    delayMs = 300;
    const slow = get(agent, '/slow');
    await new Promise((r) => setTimeout(r, 20));
    delayMs = 5;
    const quick = await Promise.all(Array.from({ length: 10 }, (_, i) => get(agent, `/q/${i}`)));
    expect(quick).toHaveLength(10);
    await expect(slow).resolves.toBe('/slow');
    expect(agent.peak).toBeLessThanOrEqual(2);
    agent.destroy();
  });

  test('a refused channel fails only its own request and frees its slot', async () => {
    const conn = opener();
    const agent = new DialStdioAgent(conn, 'test@host', 2);
    // The first two channel opens are refused: both slots must come back for the next request.
    const exec = conn.exec.bind(conn);
    let refuse = 2;
    conn.exec = (cmd, cb) => {
      if (refuse-- > 0)
        return setImmediate(() => cb(new Error('(SSH) Channel open failure'), undefined as never));
      return exec(cmd, cb);
    };
    const refused = await Promise.all(['/x', '/y'].map((p) => get(agent, p).catch((e: Error) => e.message)));
    for (const r of refused) expect(r).toMatch(/cannot open a Docker API channel on test@host/);
    const noSlot = new Promise((r) => setTimeout(() => r('no slot came back within 2 s'), 2000).unref());
    await expect(Promise.race([get(agent, '/after'), noSlot])).resolves.toBe('/after');
    agent.destroy();
  });

  test('requests waiting for a slot fail when the connection closes', async () => {
    const conn = opener();
    const agent = new DialStdioAgent(conn, 'test@host', 1);
    delayMs = 200;
    const first = get(agent, '/first').catch((e: Error) => e.message);
    const waiting = get(agent, '/second').catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 50));
    agent.destroy();
    await expect(waiting).resolves.toMatch(/SSH connection to test@host closed/);
    await first;
  });
});
