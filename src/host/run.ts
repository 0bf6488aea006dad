// Host commands are argv arrays. Over SSH the remote side always hands the command string to the
// user's shell, so every argument is quoted with shell-quote: what the user wrote is never
// interpreted by that shell.
import shellQuote from 'shell-quote';
import { ENV_KEY } from '../config/rules.js';

export function commandString(argv: readonly string[], env?: Readonly<Record<string, string>>): string {
  if (argv.length === 0) throw new Error('empty command');
  for (const a of argv)
    if (/[\0\n\r]/.test(a)) throw new Error('a command argument contains a NUL or newline');
  const assignments = Object.entries(env ?? {}).map(([k, v]) => {
    if (!ENV_KEY.test(k)) throw new Error(`invalid variable name ${JSON.stringify(k)}`);
    if (/[\0\n\r]/.test(v)) throw new Error(`variable ${k} contains a NUL or newline`);
    return `${k}=${v}`;
  });
  // `env K=V cmd`: env takes leading NAME=VALUE words as assignments, so the command itself
  // must not look like one.
  if (argv[0]!.includes('=')) throw new Error(`command ${JSON.stringify(argv[0])} contains '='`);
  const full = assignments.length > 0 ? ['env', ...assignments, ...argv] : [...argv];
  return shellQuote.quote(full);
}

/** Substitute `${VAR}` placeholders left by parseCommandLine with this run's values. */
export function substitute(argv: readonly string[], vars: Readonly<Record<string, string>>): string[] {
  return argv.map((a) => a.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => vars[k] ?? ''));
}
