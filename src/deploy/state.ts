// What the host remembers for an app: the deploy history (who, when, which build, which result),
// next to the lock, under the deploy user's home. The host is the source of truth, not the runner.
import { posix } from 'node:path';
import type { Host } from '../host/index.js';
import type { DeployRecord } from './plan.js';

const MAX_HISTORY = 200;

export async function appStateDir(host: Host, app: string): Promise<string> {
  return posix.join(await host.home(), '.docker-bluegreen', app);
}

/** Newest first. */
export async function readHistory(host: Host, dir: string): Promise<DeployRecord[]> {
  const data = await host.readFile(posix.join(dir, 'history.jsonl'));
  if (!data) return [];
  const out: DeployRecord[] = [];
  for (const line of data.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as DeployRecord);
    } catch {
      /* a torn line from a crash is skipped, not fatal */
    }
  }
  return out.reverse();
}

/** Appends under the deploy lock (read, add, write atomically), keeping the last 200 records. */
export async function appendHistory(host: Host, dir: string, record: DeployRecord): Promise<void> {
  await host.mkdirp(dir);
  const file = posix.join(dir, 'history.jsonl');
  const lines = ((await host.readFile(file))?.toString('utf8') ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '');
  lines.push(JSON.stringify(record));
  await host.writeFileAtomic(file, lines.slice(-MAX_HISTORY).join('\n') + '\n', 0o600);
}

/** env-file on the host, in Docker's format: KEY=VALUE lines, # comments; values taken as they are. */
export function parseEnvFile(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue; // a bare KEY means "from the caller's environment": nothing to pass here
    out.push([line.slice(0, eq).trim(), line.slice(eq + 1)]);
  }
  return out;
}
