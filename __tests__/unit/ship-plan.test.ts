import fc from 'fast-check';
import { chainIds, hostChainIds, planLayers } from '../../src/ship/plan.js';

// RootFS diffIds of the real fixtures (Docker 20.10 saves of FROM scratch + three COPY layers).
const TINY1 = [
  'sha256:e72ea64ab268ff731298ca3381c70f6e1e49f09ead26cf22602e5c57deeee988',
  'sha256:3cce23b4714dbdf62fc24db9a94ccf25bcbb9e24a946c256331a339d79b6c99d',
  'sha256:6daec0a2e76da85c2937dc981b39d3c58794624a3fb09868359f14ccd01fb2b1',
];
const TINY2 = [
  TINY1[0] as string,
  TINY1[1] as string,
  'sha256:a19a3a8222c86367f966d79cf379f203eab8f3234cb89bdbd86f1b474e820a9b',
];

// Golden values from `printf '%s %s' "$below" "$diff" | sha256sum`, not from the code under test.
const CHAIN1 = 'sha256:f9c6d7d91b60f9391ceaf44c11d38b566cf58aad8a5219a5c56f607f81f6ed86';
const TINY1_TOP = 'sha256:3b4550cb417ebf1ae68de11fde46f3b9e5b6ed1f82a43fb93abb7e22374c860c';
const TINY2_TOP = 'sha256:2eb6706b82753b3523f0837962abda7ad27d63ca3225fcab56c95b361876bf42';

const hex = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

describe('chainIds', () => {
  test('match the sha256sum golden values', () => {
    expect(chainIds(TINY1)).toEqual([TINY1[0], CHAIN1, TINY1_TOP]);
    expect(chainIds(TINY2)).toEqual([TINY2[0], CHAIN1, TINY2_TOP]);
  });

  test('empty and single-layer images', () => {
    expect(chainIds([])).toEqual([]);
    expect(chainIds([TINY1[2] as string])).toEqual([TINY1[2]]);
  });

  test('the same diffId at two positions gets two chain ids', () => {
    const ids = chainIds([TINY1[0] as string, TINY1[1] as string, TINY1[1] as string]);
    expect(new Set(ids).size).toBe(3);
  });
});

describe('hostChainIds', () => {
  test('is the union of every host image chain', () => {
    const host = hostChainIds([{ layers: TINY1 }, { layers: TINY2 }]);
    expect([...host].sort()).toEqual([TINY1[0], CHAIN1, TINY1_TOP, TINY2_TOP].sort());
    expect(hostChainIds([])).toEqual(new Set());
  });
});

describe('planLayers', () => {
  test('tiny:2 against a host with tiny:1 sends only the top layer', () => {
    const plan = planLayers(TINY2, hostChainIds([{ layers: TINY1 }]));
    expect(plan.layers.map((l) => [l.index, l.diffId, l.chainId, l.send])).toEqual([
      [0, TINY2[0], TINY2[0], false],
      [1, TINY2[1], CHAIN1, false],
      [2, TINY2[2], TINY2_TOP, true],
    ]);
    expect([plan.sendCount, plan.skipCount]).toEqual([1, 2]);
    expect(plan.bytesToSend).toBeUndefined();
    expect(plan.layers[0]).not.toHaveProperty('size');
  });

  test('an empty host set is a full transfer', () => {
    const plan = planLayers(TINY2, new Set());
    expect(plan.layers.every((l) => l.send)).toBe(true);
    expect([plan.sendCount, plan.skipCount]).toEqual([3, 0]);
  });

  test('a diffId the host has under another chain is still sent', () => {
    // Host has layer B, but on top of X rather than A: the chain of [A, B] is missing.
    const X = 'sha256:' + 'f'.repeat(64);
    const plan = planLayers(TINY2, hostChainIds([{ layers: [X, TINY2[1] as string] }]));
    expect(plan.layers.map((l) => l.send)).toEqual([true, true, true]);
  });

  test('never skips above a sent layer, even when the host set names a higher chain', () => {
    // Not a state a real layer store can be in, but a partial host list must not cause a gap.
    const plan = planLayers(TINY2, new Set([CHAIN1]));
    expect(plan.layers.map((l) => l.send)).toEqual([true, true, true]);
  });

  test('sizes: bytes to send and skipped, a repeated diffId counted once and sent if any copy is', () => {
    const E = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
    const diffIds = [TINY1[0] as string, E, TINY1[1] as string, E];
    const host = new Set(chainIds(diffIds).slice(0, 2)); // host has A and A+E
    const plan = planLayers(diffIds, host, [100, 1024, 7, 1024]);
    expect(plan.layers.map((l) => [l.size, l.send])).toEqual([
      [100, false],
      [1024, false],
      [7, true],
      [1024, true],
    ]);
    expect([plan.bytesToSend, plan.bytesSkipped]).toEqual([7 + 1024, 100]);
    expect(() => planLayers(diffIds, host, [1, 2])).toThrow(RangeError);
  });

  test('property: against a host holding a prefix of the image, exactly that prefix is skipped', () => {
    fc.assert(
      fc.property(fc.array(hex, { minLength: 1, maxLength: 12 }), fc.nat(), (diffIds, cut) => {
        const k = cut % (diffIds.length + 1);
        const plan = planLayers(diffIds, hostChainIds([{ layers: diffIds.slice(0, k) }]));
        expect(plan.layers.map((l) => l.send)).toEqual(diffIds.map((_, i) => i >= k));
        expect(plan.skipCount).toBe(k);
      }),
    );
  });
});
