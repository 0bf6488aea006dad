// The shape every advisor check reports, and the options they share. Kept apart from the rules
// so the rule modules can import it without importing each other.
import type { Stage, Step } from './model.js';

export interface Finding {
  rule: string;
  /** 1-based; 0 for a finding about a file as a whole. */
  line: number;
  endLine?: number;
  /** One line: what and why. */
  title: string;
  /** One line: the fix. */
  fix: string;
  severity: 'warning';
}

export interface AdviseOptions {
  /** The ARG that carries the build tag, e.g. 'BUILD_TAG'. */
  buildTagArg: string;
  /** Multi-stage target: the final stage is this stage when given, else the last. */
  target?: string;
}

/** A finding annotating an instruction (or a stage's FROM), all of its lines. */
export function finding(rule: string, at: Step | Stage, title: string, fix: string): Finding {
  return { rule, line: at.line, endLine: at.endLine, title, fix, severity: 'warning' };
}
