// A throwaway copy of the example app, changed between deploys the way commits change it.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './runner.js';

export interface AppWorkspace {
  readonly dir: string;
  /** A source-only change: the page the app serves. */
  setPage(text: string): void;
  /** A dependency change: deps.txt's first line is the size in MB, the rest makes it unique. */
  setDeps(mb: number, salt: string): void;
  write(rel: string, content: string): void;
}

export function appWorkspace(fixture = 'app'): AppWorkspace {
  const dir = mkdtempSync(path.join(tmpdir(), 'bg-ws-'));
  cpSync(path.join(ROOT, '__tests__/fixtures', fixture), dir, { recursive: true });
  const write = (rel: string, content: string) => writeFileSync(path.join(dir, rel), content);
  return {
    dir,
    setPage: (text) => write('src/index.html', text + '\n'),
    setDeps: (mb, salt) => write('deps.txt', `${mb}\n${salt}\n`),
    write,
  };
}

/** A random commit sha: its first 7 characters (which go into the build tag) differ per call. */
export function nextSha(): string {
  return randomBytes(20).toString('hex');
}
