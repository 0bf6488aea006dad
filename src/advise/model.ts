// The Dockerfile as the rules see it: dockerfile-ast's instructions grouped into stages, each
// RUN turned into shell commands, and FROM references resolved against the global ARGs.
// Nothing here does I/O.
import { DockerfileParser, JSONInstruction, ModifiableInstruction } from 'dockerfile-ast';
import type { Arg, Dockerfile, Flag, From, Instruction, Run } from 'dockerfile-ast';
import { argvCommands, scriptCommands, type Command } from './shell.js';

// dockerfile-ast's position type, without importing its dependency vscode-languageserver-types.
type Range = ReturnType<Instruction['getRange']>;

export interface Step {
  ins: Instruction;
  /** Upper-case keyword (`run` is RUN). */
  keyword: string;
  /** 1-based first and last line (continuations and heredocs included). */
  line: number;
  endLine: number;
  /** The arguments, flags left out; exec-form JSON strings decoded. */
  args: string[];
  /** The simple commands a RUN executes; empty for every other instruction. */
  commands: Command[];
}

export interface Stage {
  index: number;
  /** The `AS name`, lower-cased as Docker compares it. */
  name?: string;
  from: From;
  line: number;
  endLine: number;
  /** The instructions after FROM, in order. */
  steps: Step[];
}

export interface Model {
  df: Dockerfile;
  stages: Stage[];
}

export const BUILD_STEPS = new Set(['RUN', 'COPY', 'ADD']);
// BuildKit declares these in the global scope itself, so build args for them apply to FROM.
const PLATFORM_ARGS = ['TARGET', 'BUILD'].flatMap((p) =>
  ['PLATFORM', 'OS', 'ARCH', 'VARIANT'].map((s) => p + s),
);

export function parseDockerfile(text: string): Model {
  const df = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const stages: Stage[] = [];
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword();
    const r = ins.getRange();
    const args = argumentsOf(ins, lines);
    const step: Step = { ins, keyword, line: r.start.line + 1, endLine: r.end.line + 1, args, commands: [] };
    if (keyword === 'FROM') {
      const from = ins as From;
      const name = from.getBuildStage()?.toLowerCase();
      stages.push({
        index: stages.length,
        from,
        line: step.line,
        endLine: step.endLine,
        steps: [],
        ...(name ? { name } : {}),
      });
      continue;
    }
    if (keyword === 'RUN') step.commands = runCommands(ins as Run, args, lines);
    // Instructions before the first FROM are global ARGs, read through df.getInitialARGs().
    stages.at(-1)?.steps.push(step);
  }
  return { df, stages };
}

/**
 * Exec form (`["a", "b c"]`) decoded from the document text at each JSON string's range:
 * dockerfile-ast 0.7.1's getJSONValue() drops the spaces inside a string ("b c" -> "bc").
 */
function argumentsOf(ins: Instruction, lines: readonly string[]): string[] {
  if (!(ins instanceof JSONInstruction) || !ins.getOpeningBracket())
    return ins.getArguments().map((a) => a.getValue());
  return ins.getJSONStrings().map((j) => {
    try {
      return JSON.parse(textAt(lines, j.getRange())) as string;
    } catch {
      return j.getJSONValue();
    }
  });
}

function textAt(lines: readonly string[], r: Range): string {
  const text = lines.slice(r.start.line, r.end.line + 1);
  text[text.length - 1] = (text[text.length - 1] ?? '').slice(0, r.end.character);
  text[0] = (text[0] ?? '').slice(r.start.character);
  return text.join('\n');
}

/** Exec form, heredoc or shell form: what the RUN executes, as commands. */
function runCommands(run: Run, argv: string[], lines: readonly string[]): Command[] {
  if (run.getOpeningBracket()) return argvCommands(argv);
  const args = run.getArguments();
  const heredocs = run.getHeredocs();
  if (heredocs.length === 0) return scriptCommands(args.map((a) => a.getValue()).join(' '));
  // `RUN <<EOF` (or `RUN bash <<EOF`) runs the body as a script; `RUN python3 <<EOF` or
  // `RUN cat <<EOF > f` feed it as data, so only the first line is shell then.
  const startLine = run.getRange().start.line;
  const head = args
    .filter((a) => a.getRange().start.line === startLine && !a.getValue().startsWith('<<'))
    .map((a) => a.getValue());
  if (head.length > 1 || (head.length === 1 && !/^(\/bin\/)?(ba|a|da)?sh$/.test(head[0] ?? ''))) {
    return scriptCommands(head.join(' '));
  }
  const body = heredocs.map((h) => {
    const c = h.getContentRange();
    return c ? textAt(lines, c) : '';
  });
  return scriptCommands(body.join('\n'));
}

/** The stage that is built: the target when given, else the last. */
export function finalStage(m: Model, target?: string): Stage | undefined {
  if (target === undefined || target === '') return m.stages.at(-1);
  const found = m.stages.find((s) => s.name === target.toLowerCase());
  if (!found) {
    const names = m.stages.flatMap((s) => (s.name ? [s.name] : [])).join(', ') || 'none';
    throw new Error(`target stage '${target}' is not in the Dockerfile (stages: ${names})`);
  }
  return found;
}

/** The earlier stage a `FROM <ref>` names, if it names one (Docker compares names lower-cased). */
export function earlierStage(m: Model, ref: string, before: number): Stage | undefined {
  const r = ref.toLowerCase();
  return m.stages.find((s) => s.index < before && s.name === r);
}

export interface ResolvedImage {
  image: string;
  /** A `$VAR` had no value (no default, no build arg): `image` keeps it as written. */
  unresolved: boolean;
}

/**
 * The FROM image with the global ARGs substituted (their defaults, overridden by build args),
 * supporting `$V`, `${V}`, `${V:-word}`, `${V-word}`, `${V:+word}` and `${V+word}`.
 */
export function resolveFrom(
  m: Model,
  stage: Stage,
  buildArgs: ReadonlyArray<readonly [string, string]> = [],
): ResolvedImage {
  const given = new Map(buildArgs);
  const values = new Map<string, string | undefined>();
  let unresolved = false;
  const expand = (raw: string) =>
    raw.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (
        all,
        braced: string | undefined,
        op: string | undefined,
        word: string | undefined,
        bare: string | undefined,
      ) => {
        const v = values.get((braced ?? bare) as string);
        const set = op?.startsWith(':') ? v !== undefined && v !== '' : v !== undefined;
        if (op?.endsWith('-')) return set ? (v as string) : (word ?? '');
        if (op?.endsWith('+')) return set ? (word ?? '') : '';
        if (v === undefined) unresolved = true;
        return v ?? all;
      },
    );
  for (const name of PLATFORM_ARGS) if (given.has(name)) values.set(name, given.get(name));
  for (const arg of m.df.getInitialARGs() as Arg[]) {
    for (const p of arg.getProperties()) {
      const def = p.getValue();
      values.set(p.getName(), given.get(p.getName()) ?? (def === null ? undefined : expand(def)));
    }
  }
  unresolved = false;
  const image = expand(stage.from.getImage() ?? '');
  return { image, unresolved };
}

/**
 * Sources of a COPY/ADD (every argument but the destination). A heredoc COPY/ADD has none:
 * dockerfile-ast lists the heredoc body's words among its arguments.
 */
export function copySources(step: Step): string[] {
  if (step.args.some((a) => a.startsWith('<<'))) return [];
  return step.args.slice(0, -1);
}

/** The flags (`--from=`, `--mount=`...) of an instruction that can have them. */
function flags(step: Step): Flag[] {
  return step.ins instanceof ModifiableInstruction ? step.ins.getFlags() : [];
}

export function flag(step: Step, name: string): Flag | undefined {
  return flags(step).find((f) => f.getName().toLowerCase() === name);
}

/** `RUN --mount=type=cache,target=/var/lib/apt`: a directory kept out of the layer. */
export function cacheMountTargets(step: Step): string[] {
  return flags(step)
    .filter((f) => f.getName() === 'mount' && f.getOption('type')?.getValue() === 'cache')
    .flatMap((f) => {
      const t = f.getOption('target') ?? f.getOption('dst') ?? f.getOption('destination');
      return t?.getValue() ? [(t.getValue() as string).replace(/\/+$/, '')] : [];
    });
}

/** One line for a message: keyword and arguments, whitespace collapsed, capped. */
export function summary(step: Step): string {
  const text = `${step.keyword} ${step.args.join(' ')}`.trim();
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}
