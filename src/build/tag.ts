// BUILD_TAG: unique per build, sortable by time, traceable to the commit.

/** `YYYYMMDDHHMMSS-<sha7>` in UTC; `local` stands in for the sha outside GitHub Actions. */
export function generateBuildTag(now: Date, sha: string | undefined): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp =
    p(now.getUTCFullYear(), 4) +
    p(now.getUTCMonth() + 1) +
    p(now.getUTCDate()) +
    p(now.getUTCHours()) +
    p(now.getUTCMinutes()) +
    p(now.getUTCSeconds());
  const short = sha && /^[0-9a-f]{7,}$/i.test(sha) ? sha.slice(0, 7).toLowerCase() : 'local';
  return `${stamp}-${short}`;
}

export const BUILD_TAG_RE = /^[0-9]{14}-(?:[0-9a-f]{7}|local)$/;
