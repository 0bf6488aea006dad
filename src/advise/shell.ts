// Splits the shell script of a RUN into simple commands (argv plus leading VAR=value
// assignments) so the rules can ask "is there an `apt-get install` here?" without regexes over
// raw text. shell-quote does the quoting and operators; this file only cuts at the operators.
// Nothing here does I/O.
import shellQuote from 'shell-quote';

export interface Command {
  /** The program and its arguments, wrappers (`sudo`, `env`, `exec`...) and paths stripped. */
  argv: string[];
  /** `VAR=value` assignments written before the program (`DEBIAN_FRONTEND=noninteractive ...`). */
  env: Record<string, string>;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
// Commands that run the rest of their argv as the real command.
const WRAPPERS = new Set(['sudo', 'env', 'exec', 'time', 'nice', 'nohup', 'command', 'xargs']);
const REDIRECTS = new Set(['>', '>>', '<', '>&', '<(']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** The commands of a shell script (what `/bin/sh -c` would run), in order. */
export function scriptCommands(script: string): Command[] {
  // shell-quote reads a newline as a space: make each line its own command, after joining
  // backslash continuations (which heredoc bodies may contain).
  const flat = script.replace(/\\\r?\n/g, ' ').replace(/\r?\n/g, ' ; ');
  // Keep variables as written: `$BUILD_TAG` must not expand to the empty string.
  const tokens = shellQuote.parse(flat, (key: string) => '$' + key);
  const out: Command[] = [];
  let words: string[] = [];
  let redirected = false;
  const flush = () => {
    out.push(...argvCommands(words));
    words = [];
  };
  for (const t of tokens) {
    if (typeof t === 'string') {
      // The word after `>` / `<` is where output goes, not an argument.
      if (t !== '' && !redirected) words.push(t);
      redirected = false;
    } else if ('op' in t) {
      // A glob (`/var/lib/apt/lists/*`) is an argument; a redirection keeps the command going;
      // every other operator ends it.
      if (t.op === 'glob') words.push((t as { pattern: string }).pattern);
      else if (REDIRECTS.has(t.op)) redirected = true;
      else flush();
    } else if ('comment' in t) {
      flush();
    }
  }
  flush();
  return out;
}

/** One argv (exec form, or one simple command) as commands: unwraps `sh -c '...'`. */
export function argvCommands(words: readonly string[]): Command[] {
  const env: Record<string, string> = {};
  let i = 0;
  let wrapped = false;
  for (; i < words.length; i++) {
    const w = words[i] ?? '';
    if (ASSIGNMENT.test(w)) {
      const eq = w.indexOf('=');
      env[w.slice(0, eq)] = w.slice(eq + 1);
    } else if (WRAPPERS.has(basename(w))) {
      wrapped = true;
    } else if (!(wrapped && w.startsWith('-'))) {
      break; // the program; options right after a wrapper (`sudo -E -H`) are the wrapper's
    }
  }
  const argv = words.slice(i);
  if (argv.length === 0) return [];
  argv[0] = basename(argv[0] ?? '');
  const c = argv.indexOf('-c');
  if (SHELLS.has(argv[0]) && c > 0 && argv[c + 1] !== undefined) return scriptCommands(argv[c + 1] ?? '');
  return [{ argv, env }];
}

// `/usr/bin/apt-get` and `./gradlew` are apt-get and gradlew.
function basename(w: string): string {
  return w.slice(w.lastIndexOf('/') + 1);
}

/**
 * The subcommand: the first word after the program that is not an option (`apt-get -y install`
 * → install). Options known to take a separate value are skipped with it.
 */
export function subcommand(cmd: Command, valued: readonly string[] = []): string | undefined {
  for (let i = 1; i < cmd.argv.length; i++) {
    const w = cmd.argv[i] ?? '';
    if (valued.includes(w)) i++;
    else if (!w.startsWith('-')) return w;
  }
  return undefined;
}
