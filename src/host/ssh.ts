// One ssh2 connection per run, host key verified, reused for everything: the Docker API
// (dockerode over `docker system dial-stdio` channels), host commands, SFTP and TCP forwarding.
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { fingerprintOf, hostKeyName, hostKeyTypesFor, verifyHostKey } from '../config/known-hosts.js';
import type { SshTarget } from '../config/schema.js';
import type { Logger } from '../log.js';
import { HostError, type Host, type RunOptions, type RunResult } from './host.js';
import { commandString } from './run.js';
import { DialStdioAgent } from './dial-stdio.js';

function hostKeyAlgorithms(types: string[]): string[] {
  return types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}

export async function connectSsh(target: SshTarget, log: Logger): Promise<Host> {
  const label = `${target.username}@${hostKeyName(target.host, target.port)}`;
  const conn = new ssh2.Client();
  let verdict: { ok: boolean; reason?: string; fingerprint?: string } | undefined;
  const preferred = hostKeyAlgorithms(hostKeyTypesFor(target.knownHosts, target.host, target.port));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error & { level?: string }) => {
      conn.removeListener('ready', onReady);
      if (verdict && !verdict.ok) {
        reject(
          new HostError(
            `SSH to ${label} refused: ${verdict.reason}. Check known-hosts / host-fingerprint (ssh-keyscan -p ${target.port} ${target.host}).`,
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(
          new HostError(
            `SSH authentication failed for ${label}: the host did not accept ssh-key (is its public key in ~${target.username}/.ssh/authorized_keys?)`,
          ),
        );
      } else if (/timed out/i.test(err.message)) {
        reject(
          new HostError(
            `SSH to ${label} timed out after ${target.timeoutMs} ms (ssh-timeout): is the host reachable on port ${target.port}?`,
          ),
        );
      } else {
        reject(new HostError(`SSH to ${label} failed: ${err.message}`));
      }
    };
    const onReady = () => {
      conn.removeListener('error', onError);
      resolve();
    };
    conn.once('ready', onReady);
    conn.once('error', onError);
    conn.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      ...(target.passphrase !== undefined ? { passphrase: target.passphrase } : {}),
      readyTimeout: target.timeoutMs,
      keepaliveInterval: Math.max(1000, Math.min(10_000, Math.floor(target.timeoutMs / 3))),
      keepaliveCountMax: 3,
      ...(preferred.length > 0 ? { algorithms: { serverHostKey: { prepend: preferred } as never } } : {}),
      hostVerifier: (key: Buffer) => {
        const fingerprint = fingerprintOf(key);
        if (target.insecureSkipHostKeyCheck) {
          verdict = { ok: true, fingerprint };
          return true;
        }
        const v = verifyHostKey(key, target, target.host, target.port);
        verdict = v.ok ? { ok: true, fingerprint } : { ok: false, reason: v.reason, fingerprint };
        return v.ok;
      },
    });
  });

  if (target.insecureSkipHostKeyCheck) {
    log.warning(
      `insecure-skip-host-key-check: the host key of ${label} was NOT verified (it offered ${verdict?.fingerprint}). ` +
        `Anyone in the network path could impersonate the host. Set host-fingerprint: ${verdict?.fingerprint} to verify it.`,
    );
  } else {
    log.info(`SSH connected to ${label}, host key ${verdict?.fingerprint} verified`);
  }
  return new SshHost(conn, label, target.timeoutMs);
}

class SshHost implements Host {
  readonly kind = 'ssh' as const;
  readonly docker: Docker;
  private readonly agent: DialStdioAgent;
  private sftpP: Promise<SFTPWrapper> | undefined;
  private homeP: Promise<string> | undefined;
  private closed = false;

  constructor(
    private readonly conn: ssh2.Client,
    readonly label: string,
    private readonly timeoutMs: number,
  ) {
    this.agent = new DialStdioAgent(conn, label);
    // host/protocol only name the request; the agent carries it over the SSH channel.
    this.docker = new Docker({
      protocol: 'http',
      host: 'docker',
      port: 80,
      agent: this.agent,
    } as Docker.DockerOptions);
    conn.on('error', () => undefined); // late errors surface through the operation that hit them
    // ssh2 ends a dead connection's channels only once their readers drain; a request blocked on
    // a full window would wait forever. Fail every open API channel at once instead.
    conn.on('close', () => {
      const err = new HostError(`the SSH connection to ${label} closed`);
      for (const ch of this.agent.channels) (ch as unknown as { destroy(e: Error): void }).destroy(err);
      this.agent.destroy();
    });
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const cmd = commandString(argv, opts.env);
    const idle = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      this.conn.exec(cmd, (err, ch) => {
        if (err) return reject(new HostError(`cannot run ${argv[0]} on ${this.label}: ${err.message}`));
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        let timer: NodeJS.Timeout | undefined;
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            ch.close();
            reject(
              new HostError(
                `'${argv.join(' ')}' on ${this.label} produced nothing for ${idle} ms (ssh-timeout)`,
              ),
            );
          }, idle);
        };
        arm();
        ch.on('data', (d: Buffer) => {
          stdout += d.toString();
          arm();
        });
        ch.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          arm();
        });
        ch.on('exit', (c: number | null, signal?: string) => {
          code = c ?? (signal ? 128 : 255);
        });
        ch.on('close', () => {
          clearTimeout(timer);
          resolve({ code: code ?? 255, stdout, stderr });
        });
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpP ??= new Promise((resolve, reject) =>
      this.conn.sftp((err, s) =>
        err ? reject(new HostError(`SFTP to ${this.label} failed: ${err.message}`)) : resolve(s),
      ),
    );
    return this.sftpP;
  }

  async home(): Promise<string> {
    this.homeP ??= this.sftp().then(
      (s) =>
        new Promise<string>((resolve, reject) =>
          s.realpath('.', (err, p) => (err ? reject(err) : resolve(p))),
        ),
    );
    return this.homeP;
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const s = await this.sftp();
    return new Promise((resolve, reject) =>
      s.readFile(path, (err: (Error & { code?: number }) | undefined, data: Buffer) => {
        if (err)
          return err.code === 2
            ? resolve(undefined)
            : reject(new HostError(`cannot read ${path} on ${this.label}: ${err.message}`));
        resolve(data);
      }),
    );
  }

  async writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const s = await this.sftp();
    const tmp = posix.join(
      posix.dirname(path),
      `.${posix.basename(path)}.tmp-${randomBytes(4).toString('hex')}`,
    );
    await new Promise<void>((resolve, reject) =>
      s.writeFile(tmp, data, { mode }, (err) =>
        err ? reject(new HostError(`cannot write ${tmp} on ${this.label}: ${err.message}`)) : resolve(),
      ),
    );
    await new Promise<void>((resolve, reject) =>
      // posix-rename@openssh.com replaces the target atomically; plain SFTP rename refuses to.
      s.ext_openssh_rename(tmp, path, (err) => {
        if (!err) return resolve();
        s.unlink(tmp, () =>
          reject(new HostError(`cannot rename ${tmp} to ${path} on ${this.label}: ${err.message}`)),
        );
      }),
    );
  }

  async mkdirExclusive(path: string): Promise<void> {
    const s = await this.sftp();
    // A directory that is gone again when stat looks was removed in between (a lock holder
    // releasing it): try the mkdir again rather than report a failure.
    for (let attempt = 1; ; attempt++) {
      const gone = await new Promise<boolean>((resolve, reject) =>
        s.mkdir(path, (err) => {
          if (!err) return resolve(false);
          // SFTP v3 reports an existing directory as a generic FAILURE (4): tell it apart with stat.
          s.stat(path, (statErr: (Error & { code?: number }) | undefined) => {
            if (statErr?.code === 2 && attempt < 3) return resolve(true);
            const e = new HostError(
              statErr ? `cannot create ${path} on ${this.label}: ${err.message}` : `${path} exists`,
            );
            if (!statErr) (e as unknown as { code: string }).code = 'EEXIST';
            reject(e);
          });
        }),
      );
      if (!gone) return;
    }
  }

  async mkdirp(path: string): Promise<void> {
    const s = await this.sftp();
    const parts = path.split('/').filter(Boolean);
    let cur = '';
    for (const p of parts) {
      cur += '/' + p;
      await new Promise<void>((resolve, reject) =>
        s.stat(cur, (err) => {
          if (!err) return resolve();
          s.mkdir(cur, (e) =>
            e ? reject(new HostError(`cannot create ${cur} on ${this.label}: ${e.message}`)) : resolve(),
          );
        }),
      );
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const s = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      s.ext_openssh_rename(from, to, (err) =>
        err
          ? reject(new HostError(`cannot rename ${from} to ${to} on ${this.label}: ${err.message}`))
          : resolve(),
      ),
    );
  }

  async remove(path: string): Promise<void> {
    const s = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      s.stat(path, (err, st) => {
        if (err) return resolve();
        const done = (e: Error | null | undefined) =>
          e ? reject(new HostError(`cannot remove ${path} on ${this.label}: ${e.message}`)) : resolve();
        if (!st.isDirectory()) return s.unlink(path, done);
        s.readdir(path, (e, list) => {
          if (e) return done(e);
          Promise.all(list.map((f) => this.remove(posix.join(path, f.filename)))).then(
            () => s.rmdir(path, done),
            (x: Error) => done(x),
          );
        });
      }),
    );
  }

  connectTcp(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) =>
      this.conn.forwardOut('127.0.0.1', 0, address, port, (err, ch) =>
        err
          ? reject(new HostError(`cannot reach ${address}:${port} from ${this.label}: ${err.message}`))
          : resolve(ch),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.conn.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.conn.end();
    });
  }
}
