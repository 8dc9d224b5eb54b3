import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fenced code block of a Markdown page. `info` is what follows the opening fence. */
export interface CodeBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly info: string[];
  readonly body: string;
}

/** The fenced blocks (``` or ~~~, up to 3 spaces of indent) of one page, in order. */
export function codeBlocks(root: string, file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const fence = open[1] as string;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trimStart().startsWith(fence) && line.trim() === line.trim().replace(/[^`~]/g, '')) break;
      body.push(line);
    }
    blocks.push({
      file,
      line: i + 1,
      info: (open[2] ?? '').trim().split(/\s+/).filter(Boolean),
      body: body.join('\n'),
    });
    i = j;
  }
  return blocks;
}

/** README.md and every docs/*.md page. */
export function documentationPages(root: string): string[] {
  return [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ];
}
