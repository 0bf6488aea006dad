// One deploy per app per host at a time. The lock is a directory on the host (mkdir is atomic, so
// two runs can never both hold it) with an owner file saying who holds it, refreshed while held.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { posix } from 'node:path';
import type { GithubContext } from '../config/schema.js';
import type { Host } from '../host/index.js';
import type { Logger } from '../log.js';

export interface LockOwner {
  readonly nonce: string;
  readonly runId?: string;
  readonly runAttempt?: string;
  readonly actor?: string;
  readonly repository?: string;
  readonly workflow?: string;
  readonly runner: string;
  readonly since: string;
  heartbeat: string;
}

const HEARTBEAT_MS = 10_000;
/** A holder whose heartbeat is older than this is gone (it refreshes every 10 s). */
export const HOLDER_GONE_MS = 45_000;

export function describeOwner(o: Partial<LockOwner> | undefined): string {
  if (!o) return 'an unknown holder';
  const run = o.runId
    ? `run ${o.runId}${o.runAttempt && o.runAttempt !== '1' ? ` (attempt ${o.runAttempt})` : ''}`
    : 'a run';
  return `${run}${o.repository ? ` of ${o.repository}` : ''}${o.actor ? ` by ${o.actor}` : ''} on ${o.runner ?? '?'}, since ${o.since ?? '?'}`;
}

/** Pure: may a waiter break this lock? Only when it is older than lock-timeout and its holder is gone. */
export function isStale(
  o: Partial<LockOwner> | undefined,
  lockAgeMs: number,
  now: number,
  lockTimeoutMs: number,
): boolean {
  const beat = o?.heartbeat ? Date.parse(o.heartbeat) : NaN;
  const gone = Number.isNaN(beat) || now - beat > HOLDER_GONE_MS;
  return lockAgeMs > lockTimeoutMs && gone;
}

export class LockError extends Error {}

export class DeployLock {
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  readonly owner: LockOwner;

  constructor(
    private readonly host: Host,
    readonly dir: string,
    github: GithubContext,
    private readonly log: Logger,
  ) {
    const now = new Date().toISOString();
    this.owner = {
      nonce: randomBytes(8).toString('hex'),
      ...(github.runId ? { runId: github.runId } : {}),
      ...(github.runAttempt ? { runAttempt: github.runAttempt } : {}),
      ...(github.actor ? { actor: github.actor } : {}),
      ...(github.repository ? { repository: github.repository } : {}),
      ...(github.workflow ? { workflow: github.workflow } : {}),
      runner: os.hostname(),
      since: now,
      heartbeat: now,
    };
  }

  get isHeld(): boolean {
    return this.held;
  }

  private get ownerFile(): string {
    return posix.join(this.dir, 'owner.json');
  }

  async readOwner(): Promise<Partial<LockOwner> | undefined> {
    const data = await this.host.readFile(this.ownerFile).catch(() => undefined);
    if (!data) return undefined;
    try {
      return JSON.parse(data.toString('utf8')) as Partial<LockOwner>;
    } catch {
      return undefined;
    }
  }

  async acquire(timeoutMs: number, onHeld?: () => void): Promise<void> {
    await this.host.mkdirp(posix.dirname(this.dir));
    const deadline = Date.now() + timeoutMs;
    let announced = false;
    let ownerlessSince: number | undefined;
    for (;;) {
      try {
        await this.host.mkdirExclusive(this.dir);
        this.held = true;
        onHeld?.();
        await this.host.writeFileAtomic(this.ownerFile, JSON.stringify(this.owner));
        this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
        this.timer.unref();
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
      }
      const holder = await this.readOwner();
      // A holder writes its owner file right after the mkdir: a lock that stays without one was
      // left by a run that crashed in between, and its age is unknown, so age it from first sight.
      if (!holder?.since) ownerlessSince ??= Date.now();
      else ownerlessSince = undefined;
      const since = holder?.since ? Date.parse(holder.since) : Date.now();
      const orphaned = ownerlessSince !== undefined && Date.now() - ownerlessSince > HOLDER_GONE_MS;
      if (orphaned || isStale(holder, Date.now() - since, Date.now(), timeoutMs)) {
        this.log.warning(
          `breaking a stale deploy lock ${this.dir}: held by ${describeOwner(holder)}, whose heartbeat stopped`,
        );
        const aside = `${this.dir}.stale-${randomBytes(4).toString('hex')}`;
        await this.host.rename(this.dir, aside).catch(() => undefined);
        await this.host.remove(aside).catch(() => undefined);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockError(
          `another deploy holds the lock ${this.dir}: ${describeOwner(holder)}. Waited ${Math.round(timeoutMs / 1000)} s (lock-timeout); rerun when it finishes`,
        );
      }
      if (!announced && (holder || Date.now() - (deadline - timeoutMs) > 3000)) {
        this.log.info(
          `waiting up to ${Math.round((deadline - Date.now()) / 1000)} s for the deploy lock, held by ${describeOwner(holder)}`,
        );
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private async beat(): Promise<void> {
    if (!this.held) return;
    this.owner.heartbeat = new Date().toISOString();
    await this.host.writeFileAtomic(this.ownerFile, JSON.stringify(this.owner)).catch(() => undefined);
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    if (!this.held) return;
    await releaseIfOurs(this.host, this.dir, this.owner.nonce);
    this.held = false;
  }
}

/** Used by release and by the post step: remove the lock only if this run still holds it. */
export async function releaseIfOurs(host: Host, dir: string, nonce: string): Promise<boolean> {
  const data = await host.readFile(posix.join(dir, 'owner.json')).catch(() => undefined);
  if (!data) return false;
  let owner: Partial<LockOwner>;
  try {
    owner = JSON.parse(data.toString('utf8')) as Partial<LockOwner>;
  } catch {
    return false;
  }
  if (owner.nonce !== nonce) return false;
  const aside = `${dir}.released-${randomBytes(4).toString('hex')}`;
  await host.rename(dir, aside);
  await host.remove(aside);
  return true;
}
