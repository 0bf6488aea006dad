// What a person wants from BuildKit's plain progress output: which Dockerfile steps ran and which
// came from cache, and, when one failed, which step and its last output lines.
export interface BuildStep {
  readonly id: string;
  readonly name: string;
  cached: boolean;
  done: boolean;
  seconds?: number;
  error?: string;
  output: string[];
}

export interface ProgressSummary {
  readonly steps: BuildStep[];
  readonly executed: number;
  readonly cached: number;
  readonly failed?: { step: string; error: string; lastLines: string[] };
}

// `[2/6] RUN ...`, `[stage-name 2/6] RUN ...` or, building several platforms at once,
// `[linux/arm64 stage-name 2/6] RUN ...`: the Dockerfile's own steps, not [internal] ones.
const STEP_NAME = /^\[(?:[^\]\s]+\s+){0,2}\d+\/\d+\] /;

/** The output lines of the `------` block about step `name` (else the last block), as printed by the step. */
function blockOutput(blocks: readonly string[][], name: string): string[] {
  const header = ` > ${name}:`;
  const block = blocks.find((b) => b.includes(header)) ?? blocks[blocks.length - 1] ?? [];
  return block
    .filter((l) => !/^ > .*:$/.test(l))
    .map((l) => l.replace(/^(?:#\d+ )?\d+\.\d+ /, ''))
    .filter((l) => l.trim() !== '');
}

export function summarizeProgress(text: string): ProgressSummary {
  const byId = new Map<string, BuildStep>();
  const order: BuildStep[] = [];
  const blocks: string[][] = [];
  let block: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '------') {
      if (block) blocks.push(block);
      block = block ? undefined : [];
      continue;
    }
    if (block) {
      block.push(line);
      continue;
    }
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m as unknown as [string, string, string];
    let step = byId.get(id);
    if (!step) {
      step = { id, name: rest, cached: false, done: false, output: [] };
      byId.set(id, step);
      // FROM only resolves the base image: it is not a step that runs or caches.
      if (STEP_NAME.test(rest) && !/^\[[^\]]*\] FROM /.test(rest)) order.push(step);
      continue;
    }
    if (rest === 'CACHED') step.cached = true;
    else if (/^DONE \d/.test(rest)) {
      step.done = true;
      step.seconds = Number(rest.slice(5).replace(/s$/, ''));
    } else if (rest.startsWith('ERROR')) step.error = rest.replace(/^ERROR:?\s*/, '');
    else if (/^\d+\.\d+ /.test(rest)) {
      step.output.push(rest.replace(/^\d+\.\d+ /, ''));
      if (step.output.length > 50) step.output.shift();
    }
  }
  if (block) blocks.push(block);
  const failedStep =
    order.find((s) => s.error !== undefined) ?? [...byId.values()].find((s) => s.error !== undefined);
  const cached = order.filter((s) => s.cached).length;
  const summary: ProgressSummary = {
    steps: order,
    cached,
    executed: order.filter((s) => !s.cached && (s.done || s.error !== undefined)).length,
    ...(failedStep
      ? {
          failed: {
            step: failedStep.name,
            error: failedStep.error!,
            lastLines: (failedStep.output.length > 0
              ? failedStep.output
              : blockOutput(blocks, failedStep.name)
            ).slice(-10),
          },
        }
      : {}),
  };
  return summary;
}
