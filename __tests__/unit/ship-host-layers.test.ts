import type Docker from 'dockerode';
import { hostLayers } from '../../src/ship/step.js';

// A stand-in for the host's daemon (the Engine API answers only): what hostLayers makes of them.
function fakeHost(images: Record<string, string[] | 'gone'>) {
  let inFlight = 0;
  let maxInFlight = 0;
  const docker = {
    listImages: async () => Object.keys(images).map((Id) => ({ Id })),
    getImage: (id: string) => ({
      inspect: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        const layers = images[id];
        if (layers === 'gone') throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { Id: id, RootFS: { Type: 'layers', Layers: layers } };
      },
    }),
  };
  return { docker: docker as unknown as Docker, maxInFlight: () => maxInFlight };
}

test('every image on the host gives its layers, in the order the host listed them', async () => {
  const h = fakeHost({ a: ['sha256:1'], b: ['sha256:1', 'sha256:2'], c: ['sha256:3'] });
  expect(await hostLayers(h.docker)).toEqual([
    { layers: ['sha256:1'] },
    { layers: ['sha256:1', 'sha256:2'] },
    { layers: ['sha256:3'] },
  ]);
});

test('an image removed between list and inspect is left out, not an error', async () => {
  const h = fakeHost({ a: ['sha256:1'], b: 'gone', c: ['sha256:3'] });
  expect(await hostLayers(h.docker)).toEqual([{ layers: ['sha256:1'] }, { layers: ['sha256:3'] }]);
});

test('the inspects are not one round trip after another', async () => {
  const h = fakeHost(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`i${i}`, [`sha256:${i}`]])));
  expect(await hostLayers(h.docker)).toHaveLength(20);
  expect(h.maxInFlight()).toBeGreaterThan(1);
});
