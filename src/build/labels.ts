// The labels every image the action builds carries: the OCI ones, and ours, which retention and
// rollback read back from the host (so the host, not the runner, knows what each image is).
import type { BuildConfig, GithubContext, KeyValues } from '../config/schema.js';

export const LABEL_APP = 'dev.bluegreen.app';
export const LABEL_BUILD_TAG = 'dev.bluegreen.build-tag';
export const LABEL_BASE_IMAGE = 'dev.bluegreen.base-image';
export const LABEL_COLOR = 'dev.bluegreen.color';

export function imageLabels(
  build: BuildConfig,
  app: string,
  github: GithubContext,
  now: Date,
  baseImage: string | undefined,
): KeyValues {
  const labels: Array<[string, string]> = [
    ['org.opencontainers.image.created', now.toISOString()],
    ['org.opencontainers.image.version', build.buildTag],
    ['org.opencontainers.image.title', app],
  ];
  if (github.sha) labels.push(['org.opencontainers.image.revision', github.sha]);
  if (github.repository)
    labels.push(['org.opencontainers.image.source', `${github.serverUrl}/${github.repository}`]);
  if (baseImage)
    labels.push(['org.opencontainers.image.base.name', baseImage], [LABEL_BASE_IMAGE, baseImage]);
  labels.push([LABEL_APP, app], [LABEL_BUILD_TAG, build.buildTag]);
  // The user's labels come last: on a duplicate key the user wins, except for ours.
  const ours = new Set([LABEL_APP, LABEL_BUILD_TAG]);
  for (const [k, v] of build.labels) {
    if (ours.has(k)) continue;
    const i = labels.findIndex(([lk]) => lk === k);
    if (i >= 0) labels.splice(i, 1);
    labels.push([k, v]);
  }
  return labels;
}
