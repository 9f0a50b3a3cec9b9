// Where a secret found in a message is in the user's own file: the message around a selection or a converted
// markdown file has other lines (a header, a fence, a permalink), so its line numbers are not the file's.

/** The text the message was made from, and the line of the file it starts at. */
export interface SourceText {
  /** What the user recognises the file by (its workspace-relative path). */
  label: string;
  text: string;
  /** 1-based line of the file where `text` starts. */
  firstLine: number;
}

/** The 1-based file line where `value` first appears in the source, or undefined when it does not appear there. */
export function sourceLineOf(source: SourceText, value: string): number | undefined {
  if (!value) return undefined;
  const at = source.text.indexOf(value);
  if (at < 0) return undefined;
  let line = source.firstLine;
  for (let i = source.text.indexOf('\n'); i >= 0 && i < at; i = source.text.indexOf('\n', i + 1)) line++;
  return line;
}
