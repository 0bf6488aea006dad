// The runner's own machine as the target: a self-hosted runner on the server (no `host`).
import Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { HostError, type Host, type RunOptions, type RunResult } from './host.js';

export function localHost(): Host {
  // docker-modem reads DOCKER_HOST itself (unix socket by default), as the docker CLI does.
  const docker = new Docker();
  return {
    kind: 'local',
    label: "the runner's Docker daemon",
    docker,
    run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
      return new Promise((resolve) => {
        const child = execFile(
          argv[0]!,
          argv.slice(1),
          {
            env: { ...process.env, ...(opts.env ?? {}) },
            timeout: opts.timeoutMs ?? 0,
            maxBuffer: 64 * 1024 * 1024,
          },
          (err, stdout, stderr) => {
            const code = err
              ? typeof err.code === 'number'
                ? err.code
                : err.code === 'ENOENT'
                  ? 127
                  : 1
              : 0;
            resolve({
              code,
              stdout: String(stdout),
              stderr: String(stderr) || (err && code === 127 ? err.message : ''),
            });
          },
        );
        if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
        else child.stdin?.end();
      });
    },
    async readFile(p: string) {
      try {
        return await fs.readFile(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new HostError(`cannot read ${p}: ${(e as Error).message}`);
      }
    },
    async writeFileAtomic(p: string, data: string | Buffer, mode = 0o644) {
      const tmp = path.join(path.dirname(p), `.${path.basename(p)}.tmp-${randomBytes(4).toString('hex')}`);
      await fs.writeFile(tmp, data, { mode });
      try {
        await fs.rename(tmp, p);
      } catch (e) {
        await fs.rm(tmp, { force: true });
        throw new HostError(`cannot rename ${tmp} to ${p}: ${(e as Error).message}`);
      }
    },
    async mkdirExclusive(p: string) {
      await fs.mkdir(p);
    },
    async mkdirp(p: string) {
      await fs.mkdir(p, { recursive: true });
    },
    async rename(from: string, to: string) {
      await fs.rename(from, to);
    },
    async remove(p: string) {
      await fs.rm(p, { recursive: true, force: true });
    },
    connectTcp(address: string, port: number): Promise<Duplex> {
      return new Promise((resolve, reject) => {
        const s = net.connect({ host: address, port }, () => resolve(s));
        s.once('error', (e) => reject(new HostError(`cannot reach ${address}:${port}: ${e.message}`)));
      });
    },
    async home() {
      return os.homedir();
    },
    async close() {
      /* nothing held open */
    },
  };
}
