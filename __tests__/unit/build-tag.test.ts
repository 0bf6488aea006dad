import fc from 'fast-check';
import { BUILD_TAG_RE, generateBuildTag } from '../../src/build/tag.js';
import { TAG_RE } from '../../src/config/rules.js';

test('YYYYMMDDHHMMSS-<sha7> in UTC', () => {
  expect(generateBuildTag(new Date('2026-12-01T09:05:07Z'), 'ABCDEF0123456789')).toBe(
    '20261201090507-abcdef0',
  );
});

test('local stands in for a missing or malformed sha', () => {
  expect(generateBuildTag(new Date('2026-01-02T03:04:05Z'), undefined)).toBe('20260102030405-local');
  expect(generateBuildTag(new Date('2026-01-02T03:04:05Z'), 'not-a-sha')).toBe('20260102030405-local');
});

test('every generated tag is a valid Docker tag, sorts by time, and matches BUILD_TAG_RE', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      fc.date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      fc.stringMatching(/^[0-9a-f]{40}$/),
      (a, b, sha) => {
        const ta = generateBuildTag(a, sha);
        const tb = generateBuildTag(b, sha);
        expect(ta).toMatch(TAG_RE);
        expect(ta).toMatch(BUILD_TAG_RE);
        if (Math.floor(a.getTime() / 1000) < Math.floor(b.getTime() / 1000)) expect(ta < tb).toBe(true);
      },
    ),
  );
});
