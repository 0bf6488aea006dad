// The pure parts of the deploy lock: when a waiter may break a lock, and how its holder is named.
// (DeployLock itself needs a host and is covered end to end.)
import { describeOwner, HOLDER_GONE_MS, isStale, type LockOwner } from '../../src/deploy/lock.js';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');
const MIN = 60_000;
const TIMEOUT = 10 * MIN;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function owner(heartbeatAgoMs: number, over: Partial<LockOwner> = {}): Partial<LockOwner> {
  return {
    nonce: '0123456789abcdef',
    runId: '123456',
    runAttempt: '1',
    runner: 'fv-az123-456',
    since: ago(TIMEOUT + 5 * MIN),
    heartbeat: ago(heartbeatAgoMs),
    ...over,
  };
}

describe('isStale', () => {
  it('a holder is gone 45 s after its last heartbeat (it beats every 10 s)', () => {
    expect(HOLDER_GONE_MS).toBe(45_000);
  });

  it('an old lock whose heartbeat stopped more than 45 s ago is stale', () => {
    expect(isStale(owner(46_000), TIMEOUT + 1, NOW, TIMEOUT)).toBe(true);
    expect(isStale(owner(3 * 3600_000), 24 * 3600_000, NOW, TIMEOUT)).toBe(true);
  });

  it('a fresh lock is not stale, even when its heartbeat stopped', () => {
    expect(isStale(owner(46_000), 0, NOW, TIMEOUT)).toBe(false);
    expect(isStale(owner(3600_000), TIMEOUT - 1, NOW, TIMEOUT)).toBe(false);
  });

  it('an old lock whose holder still beats is not stale', () => {
    for (const beat of [0, 10_000, 30_000, 44_999])
      expect(isStale(owner(beat), 3600_000, NOW, TIMEOUT)).toBe(false);
  });

  it('a young lock whose holder is gone is not stale', () => {
    expect(isStale(owner(10 * MIN), 2 * MIN, NOW, TIMEOUT)).toBe(false);
  });

  it('both bounds are strict: older than lock-timeout, and more than 45 s without a beat', () => {
    expect(isStale(owner(HOLDER_GONE_MS), TIMEOUT + 1, NOW, TIMEOUT)).toBe(false);
    expect(isStale(owner(HOLDER_GONE_MS + 1), TIMEOUT + 1, NOW, TIMEOUT)).toBe(true);
    expect(isStale(owner(HOLDER_GONE_MS + 1), TIMEOUT, NOW, TIMEOUT)).toBe(false);
  });

  it('the lock-timeout given is the one that counts', () => {
    const o = owner(MIN);
    expect(isStale(o, 2 * MIN, NOW, MIN)).toBe(true);
    expect(isStale(o, 2 * MIN, NOW, 3 * MIN)).toBe(false);
  });

  it('a missing owner file counts as a gone holder only when the lock is old', () => {
    expect(isStale(undefined, TIMEOUT + 1, NOW, TIMEOUT)).toBe(true);
    expect(isStale(undefined, TIMEOUT - 1, NOW, TIMEOUT)).toBe(false);
    expect(isStale(undefined, 0, NOW, TIMEOUT)).toBe(false);
  });

  it('an owner file without a readable heartbeat counts as gone, again only when the lock is old', () => {
    for (const o of [
      {},
      { heartbeat: '' },
      { heartbeat: 'not a date' },
      owner(0, { heartbeat: undefined }),
    ]) {
      expect(isStale(o, TIMEOUT + 1, NOW, TIMEOUT)).toBe(true);
      expect(isStale(o, TIMEOUT - 1, NOW, TIMEOUT)).toBe(false);
    }
  });

  it('a heartbeat from the future (clock skew) means the holder is there', () => {
    expect(isStale(owner(-5 * MIN), 3600_000, NOW, TIMEOUT)).toBe(false);
  });
});

describe('describeOwner', () => {
  const SINCE = '2026-12-01T09:58:00.000Z';

  it('names the run, repository, actor, runner and since', () => {
    expect(
      describeOwner({
        runId: '123456',
        runAttempt: '1',
        repository: 'acme/myapp',
        actor: 'octocat',
        runner: 'fv-az123-456',
        since: SINCE,
      }),
    ).toBe(`run 123456 of acme/myapp by octocat on fv-az123-456, since ${SINCE}`);
  });

  it('shows the attempt only when it is not 1', () => {
    const base = { runId: '99', runner: 'r1', since: SINCE };
    expect(describeOwner({ ...base, runAttempt: '2' })).toBe(`run 99 (attempt 2) on r1, since ${SINCE}`);
    expect(describeOwner({ ...base, runAttempt: '13' })).toBe(`run 99 (attempt 13) on r1, since ${SINCE}`);
    expect(describeOwner({ ...base, runAttempt: '1' })).toBe(`run 99 on r1, since ${SINCE}`);
    expect(describeOwner(base)).toBe(`run 99 on r1, since ${SINCE}`);
  });

  it('without a run id: "a run", and no attempt', () => {
    expect(describeOwner({ runAttempt: '3', runner: 'laptop', since: SINCE })).toBe(
      `a run on laptop, since ${SINCE}`,
    );
  });

  it('leaves out a missing repository or actor', () => {
    expect(describeOwner({ runId: '7', actor: 'octocat', runner: 'r', since: SINCE })).toBe(
      `run 7 by octocat on r, since ${SINCE}`,
    );
    expect(describeOwner({ runId: '7', repository: 'acme/x', runner: 'r', since: SINCE })).toBe(
      `run 7 of acme/x on r, since ${SINCE}`,
    );
  });

  it('a missing runner or since is shown as ?', () => {
    expect(describeOwner({})).toBe('a run on ?, since ?');
    expect(describeOwner({ runId: '5' })).toBe('run 5 on ?, since ?');
  });

  it('no owner: an unknown holder', () => {
    expect(describeOwner(undefined)).toBe('an unknown holder');
  });
});
