// The disk guard's decision table: proceed, make room first, or refuse before any change.
import {
  afterRetention,
  CONTAINER_MARGIN,
  decide,
  deployWrites,
  LOAD_FACTOR,
  minFreeBytes,
  refusal,
} from '../../src/retention/guard.js';

const GB = 1e9;
const MB = 1e6;

describe('minFreeBytes', () => {
  test.each([
    [{ kind: 'bytes' as const, bytes: GB }, 10 * GB, GB],
    [{ kind: 'percent' as const, percent: 10 }, 10 * GB, GB],
    [{ kind: 'percent' as const, percent: 15 }, 1_000_000_001, 150_000_001],
  ])('%j of %d bytes → %d', (min, total, expected) => expect(minFreeBytes(min, total)).toBe(expected));
});

test('what a deploy writes: the lacking layers loaded twice over, plus room for the container', () => {
  expect(deployWrites(0)).toBe(CONTAINER_MARGIN);
  expect(deployWrites(100 * MB)).toBe(LOAD_FACTOR * 100 * MB + CONTAINER_MARGIN);
});

describe('decide', () => {
  const min = { kind: 'bytes' as const, bytes: 100 * MB };
  test.each([
    // free, writes, expected action, required, shortBy/spare
    [500 * MB, 300 * MB, 'proceed', 400 * MB, 100 * MB],
    [400 * MB, 300 * MB, 'proceed', 400 * MB, 0],
    [399 * MB, 300 * MB, 'make-room', 400 * MB, 1 * MB],
    [0, 300 * MB, 'make-room', 400 * MB, 400 * MB],
  ])('free %d, writes %d → %s', (free, writes, action, required, delta) => {
    const d = decide({ freeBytes: free, totalBytes: GB, writes, minFree: min });
    expect(d.action).toBe(action);
    expect(d.required).toBe(required);
    expect(d.action === 'proceed' ? d.spare : d.shortBy).toBe(delta);
  });
  test('a percentage is of the filesystem size', () => {
    expect(
      decide({
        freeBytes: 300 * MB,
        totalBytes: GB,
        writes: 200 * MB,
        minFree: { kind: 'percent', percent: 10 },
      }),
    ).toEqual({ action: 'proceed', required: 300 * MB, spare: 0 });
    expect(
      decide({
        freeBytes: 300 * MB,
        totalBytes: 2 * GB,
        writes: 200 * MB,
        minFree: { kind: 'percent', percent: 10 },
      }).action,
    ).toBe('make-room');
  });
});

describe('afterRetention', () => {
  test.each([
    [400 * MB, 100 * MB, 300 * MB, 'apply'],
    [400 * MB, 100 * MB, 299 * MB, 'refuse'],
    [400 * MB, 0, 0, 'refuse'],
  ])('required %d, free %d, retention frees %d → %s', (required, free, frees, expected) =>
    expect(afterRetention(required, free, frees)).toBe(expected),
  );
});

describe('refusal', () => {
  const base = {
    host: 'deploy@h:22',
    required: 400 * MB,
    writes: 300 * MB,
    minFree: 100 * MB,
    freeBytes: 120 * MB,
    retentionFrees: 50 * MB,
  };
  test('one line naming needed, free and what retention may free, and that nothing changed', () => {
    const m = refusal({ ...base, alternatives: [] });
    expect(m).not.toContain('\n');
    expect(m).toContain(
      'it needs 400 MB free (300 MB to load the image and start it + min-free-space 100 MB), 120 MB is free, and retention may free only 50.0 MB',
    );
    expect(m).toContain('Nothing was changed on the host');
  });
  test('names the input that would free the most, when it would free more than the rules did', () => {
    const m = refusal({
      ...base,
      alternatives: [
        { input: 'keep-images: 1', frees: 200 * MB },
        { input: 'prune-build-cache: all', frees: 400 * MB },
        { input: 'prune-scope: all', frees: 10 * MB },
      ],
    });
    expect(m).toMatch(/prune-build-cache: all would free 400 MB\.$/);
  });
  test('without a better input it says to free space or lower min-free-space', () => {
    expect(refusal({ ...base, alternatives: [{ input: 'keep-images: 1', frees: 50 * MB }] })).toMatch(
      /Free space on the host or lower min-free-space\.$/,
    );
  });
});
