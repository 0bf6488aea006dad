// The health gate: traffic moves only to a color that answers. HTTP probes travel through the SSH
// connection (a forwarded TCP channel to the color's port), so nothing must be installed on the host.
import type Docker from 'dockerode';
import http from 'node:http';
import type { HealthCheck } from '../config/schema.js';
import type { Host } from '../host/index.js';

export interface HealthResult {
  readonly ok: boolean;
  readonly ms: number;
  readonly probes: number;
  /** The last probe's result, e.g. `HTTP 200` or `connection refused`. */
  readonly last: string;
}

export interface HealthTarget {
  readonly kind: HealthCheck;
  readonly host: Host;
  readonly container: Docker.Container;
  readonly address: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMs: number;
}

export function probeHttp(
  host: Host,
  address: string,
  port: number,
  path: string,
  timeoutMs = 5000,
): Promise<string> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (s: string) => {
      if (!settled) {
        settled = true;
        resolve(s);
      }
    };
    host.connectTcp(address, port).then(
      (socket) => {
        const req = http.request(
          {
            host: address,
            port,
            path,
            method: 'GET',
            createConnection: () => socket as never,
            headers: { Connection: 'close', 'User-Agent': 'docker-bluegreen-action' },
            timeout: timeoutMs,
          },
          (res) => {
            res.resume();
            done(`HTTP ${res.statusCode}`);
            socket.destroy();
          },
        );
        req.on('timeout', () => {
          done(`no answer within ${timeoutMs} ms`);
          req.destroy();
        });
        req.on('error', (e) =>
          done(
            e.message.includes('ECONNRESET') || e.message.includes('socket hang up')
              ? 'connection closed without an answer'
              : e.message,
          ),
        );
        req.end();
      },
      (e: Error) =>
        done(
          /refused|ECONNREFUSED|Connection refused|open failed/i.test(e.message)
            ? 'connection refused'
            : e.message,
        ),
    );
  });
}

const healthyStatus = (last: string) => /^HTTP [23]\d\d$/.test(last);

export async function waitHealthy(t: HealthTarget): Promise<HealthResult> {
  const t0 = Date.now();
  let probes = 0;
  let last = 'not probed';
  const deadline = t0 + t.timeoutMs;
  for (;;) {
    const info = await t.container.inspect();
    if (!info.State.Running) {
      return {
        ok: false,
        ms: Date.now() - t0,
        probes,
        last: `the container stopped (exit code ${info.State.ExitCode}${info.State.Error ? `: ${info.State.Error}` : ''})`,
      };
    }
    probes++;
    if (t.kind === 'none')
      return { ok: true, ms: Date.now() - t0, probes, last: 'running (health-check: none)' };
    if (t.kind === 'docker') {
      const h = info.State.Health;
      if (!h)
        return {
          ok: false,
          ms: Date.now() - t0,
          probes,
          last: 'the image has no HEALTHCHECK (use health-check: http, or add HEALTHCHECK to the Dockerfile)',
        };
      last = `docker health ${h.Status}${
        h.Log?.length
          ? `: ${String(h.Log[h.Log.length - 1]?.Output ?? '')
              .trim()
              .slice(0, 200)}`
          : ''
      }`;
      if (h.Status === 'healthy') return { ok: true, ms: Date.now() - t0, probes, last };
    } else {
      last = await probeHttp(
        t.host,
        t.address,
        t.port,
        t.path,
        Math.min(5000, Math.max(500, deadline - Date.now())),
      );
      if (healthyStatus(last)) return { ok: true, ms: Date.now() - t0, probes, last };
    }
    if (Date.now() >= deadline) return { ok: false, ms: Date.now() - t0, probes, last };
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
  }
}
