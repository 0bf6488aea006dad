// The narrow interface every step uses to reach the target: a dockerode client, fixed host
// commands (argv, quoted by run.ts), a few file operations, and TCP to the host's loopback.
// ssh.ts implements it over one ssh2 connection; local.ts over the runner's own machine.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Variables set for this command only (passed as `env K=V` arguments, quoted). */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string | Buffer;
  readonly timeoutMs?: number;
}

export interface Host {
  /** e.g. `deploy@203.0.113.10:22` or `the runner's Docker daemon`. */
  readonly label: string;
  readonly kind: 'ssh' | 'local';
  readonly docker: Docker;
  /** Runs one fixed command; every argument is quoted, nothing is interpreted by a shell. */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  readFile(path: string): Promise<Buffer | undefined>;
  /** Write a temp file beside `path`, then rename it over `path` (atomic on POSIX). */
  writeFileAtomic(path: string, data: string | Buffer, mode?: number): Promise<void>;
  /** mkdir that fails with code 'EEXIST' when the directory exists: the lock primitive. */
  mkdirExclusive(path: string): Promise<void>;
  mkdirp(path: string): Promise<void>;
  /** rename(2): atomic, replaces an existing file. */
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** A TCP stream to `address:port` as seen from the host. */
  connectTcp(address: string, port: number): Promise<Duplex>;
  /** The home directory of the user the action acts as on the host. */
  home(): Promise<string>;
  close(): Promise<void>;
}

export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}
