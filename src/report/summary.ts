// The job summary: each step adds its section as it goes; main writes it once at the end, on
// success and on failure alike, so the summary shows how far the run got.
import * as core from '@actions/core';

export interface Section {
  readonly title: string;
  readonly markdown: string;
}

export class Summary {
  private readonly sections: Section[] = [];
  private headline = '';

  setHeadline(markdown: string): void {
    this.headline = markdown;
  }

  add(title: string, markdown: string): void {
    this.sections.push({ title, markdown });
  }

  render(): string {
    const parts = ['## Docker blue/green', this.headline];
    for (const s of this.sections) parts.push(`### ${s.title}`, s.markdown);
    return parts.filter((p) => p !== '').join('\n\n') + '\n';
  }

  async write(): Promise<void> {
    if (!process.env.GITHUB_STEP_SUMMARY) return;
    await core.summary.addRaw(this.render()).write();
  }
}

/** A Markdown table; cells are escaped so a value cannot break the layout. */
export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const esc = (c: string | number) => String(c).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
