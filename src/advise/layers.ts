// Rules about single layers: what one RUN, COPY or ADD leaves in the image or does to the cache.
// Nothing here does I/O.
import {
  aptUsesLists,
  dependencyInstall,
  isApkAdd,
  isAptInstall,
  isAptUpdate,
  removesApkCache,
  removesAptLists,
  type Ecosystem,
} from './commands.js';
import { finding, type Finding } from './finding.js';
import { cacheMountTargets, copySources, flag, summary, type Model, type Step } from './model.js';

const runs = (m: Model) => m.stages.flatMap((s) => s.steps.filter((st) => st.keyword === 'RUN'));

export function aptListsNotRemoved(m: Model): Finding[] {
  return runs(m)
    .filter((s) => s.commands.some(isAptInstall) && !s.commands.some(removesAptLists))
    .filter((s) => !cacheMountTargets(s).some((t) => t === '/var/lib/apt' || t === '/var/lib/apt/lists'))
    .map((s) =>
      finding(
        'apt-lists-not-removed',
        s,
        'apt-get install without `rm -rf /var/lib/apt/lists/*` in the same RUN: the package lists stay in the layer (tens of MB)',
        'End the same RUN with `&& rm -rf /var/lib/apt/lists/*`',
      ),
    );
}

export function aptUpdateAlone(m: Model): Finding[] {
  return runs(m)
    .filter((s) => s.commands.some(isAptUpdate) && !s.commands.some(aptUsesLists))
    .map((s) =>
      finding(
        'apt-update-alone',
        s,
        'apt-get update in a RUN of its own: its layer is cached, so a later apt-get install runs on stale package lists',
        'Run update and install in one RUN: `apt-get update && apt-get install -y ... && rm -rf /var/lib/apt/lists/*`',
      ),
    );
}

export function apkNoCache(m: Model): Finding[] {
  // An rm of /var/cache/apk or a cache mount keeps the index out of the layer as well.
  return runs(m)
    .filter((s) => s.commands.some((c) => isApkAdd(c) && !c.argv.includes('--no-cache')))
    .filter((s) => !s.commands.some(removesApkCache))
    .filter((s) => !cacheMountTargets(s).some((t) => t === '/var/cache/apk' || t === '/etc/apk/cache'))
    .map((s) =>
      finding(
        'apk-no-cache',
        s,
        'apk add without --no-cache: the package index stays in the layer',
        'Use `apk add --no-cache ...` (it also makes a separate `apk update` unnecessary)',
      ),
    );
}

const URL = /^([a-z][a-z0-9+.-]*:\/\/|git@)/i;
// ADD unpacks local tar archives (detected by content; these are the usual names).
const TAR = /\.(tar|tar\.(gz|bz2|xz|zst)|tgz|tbz2?|txz|tzst)$/i;

export function addLocal(m: Model): Finding[] {
  const out: Finding[] = [];
  for (const stage of m.stages) {
    for (const s of stage.steps) {
      if (s.keyword !== 'ADD' || flag(s, 'checksum')) continue;
      const sources = copySources(s);
      // A `$VAR` source could be a URL or an archive: no advice when it cannot be known.
      if (sources.length === 0 || sources.some((x) => URL.test(x) || TAR.test(x) || x.includes('$')))
        continue;
      out.push(
        finding(
          'add-local',
          s,
          `ADD of a local path (${sources.join(' ')}): ADD also fetches URLs and unpacks archives, COPY does only what is meant`,
          `Use COPY with the same arguments: \`${summary(s).replace(/^ADD/, 'COPY')}\``,
        ),
      );
    }
  }
  return out;
}

// The files each ecosystem's install reads: copy them first and the install stays cached.
const MANIFESTS: Record<Ecosystem, string | undefined> = {
  npm: 'package.json package-lock.json',
  yarn: 'package.json yarn.lock',
  pnpm: 'package.json pnpm-lock.yaml',
  pip: 'requirements.txt',
  go: 'go.mod go.sum',
  bundler: 'Gemfile Gemfile.lock',
  composer: 'composer.json composer.lock',
  apt: undefined,
  apk: undefined,
};

export function copyAllBeforeInstall(m: Model): Finding[] {
  const out: Finding[] = [];
  for (const stage of m.stages) {
    stage.steps.forEach((s, i) => {
      if (!isBroadCopy(s)) return;
      for (const later of stage.steps.slice(i + 1)) {
        const eco = later.commands.map(dependencyInstall).find((e) => e !== undefined);
        if (!eco) continue;
        const files = MANIFESTS[eco];
        const fix = files
          ? `COPY ${files} first, run the install, then \`${summary(s)}\``
          : `Move the ${eco} package install above \`${summary(s)}\`: it does not need the sources`;
        out.push(
          finding(
            'copy-all-before-install',
            s,
            `\`${summary(s)}\` copies the whole context before the ${eco} install at line ${later.line}: any source change reinstalls the dependencies`,
            fix,
          ),
        );
        return;
      }
    });
  }
  return out;
}

/** COPY/ADD of the whole context (`.` or `./`), not from another stage. */
function isBroadCopy(s: Step): boolean {
  if ((s.keyword !== 'COPY' && s.keyword !== 'ADD') || flag(s, 'from')) return false;
  return copySources(s).some((x) => x === '.' || x === './');
}
