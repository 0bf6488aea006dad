// Runs the docker CLI on the runner (argv arrays only) and reads the result back through dockerode.
import * as exec from '@actions/exec';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function docker(
  args: readonly string[],
  opts: { env?: Record<string, string>; silent?: boolean; cwd?: string } = {},
): Promise<CliResult> {
  try {
    const r = await exec.getExecOutput('docker', [...args], {
      ignoreReturnCode: true,
      silent: opts.silent ?? true,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      env: { ...(process.env as Record<string, string>), ...(opts.env ?? {}) },
    });
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    // @actions/exec throws when the executable is missing.
    return { code: 127, stdout: '', stderr: (e as Error).message };
  }
}

export async function probeBuilder(): Promise<{ buildx?: string; clientVersion?: string }> {
  const [bx, v] = await Promise.all([
    docker(['buildx', 'version']),
    docker(['version', '--format', '{{.Client.Version}}']),
  ]);
  const out: { buildx?: string; clientVersion?: string } = {};
  if (bx.code === 0 && /buildx/i.test(bx.stdout)) out.buildx = bx.stdout.trim().split('\n')[0]!;
  const cv = v.stdout.trim();
  if (cv !== '') out.clientVersion = cv.replace(/\+.*$/, '');
  return out;
}
