// The "finished" notification for a task or terminal command: its outcome, how long it ran, where, and the
// last lines of its output (kept in a small tail buffer while it runs).
import { fenceFor } from '../snippet';

export const TAIL_LINES = 20;
/** A runaway line (a progress bar without newlines) cannot make the buffer grow without bound. */
const MAX_LINE_CHARS = 500;

/** Removes what terminals interpret (colours, cursor moves, shell-integration marks), keeping the text. */
export function stripTerminalControls(data: string): string {
  return data
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '') // OSC: titles, shell integration (633), links
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '') // CSI: colours, cursor
    .replace(/\x1b[@-Z\\-_]/g, '')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g, '');
}

/** The last lines written to a terminal; a carriage return starts its line over, as it does on screen. */
export class TailBuffer {
  private lines: string[] = [''];

  constructor(private readonly keep = TAIL_LINES) {}

  write(data: string): void {
    const text = stripTerminalControls(data).replace(/\r\n/g, '\n');
    for (const [i, piece] of text.split('\n').entries()) {
      if (i > 0) this.lines.push('');
      const overwritten = piece.lastIndexOf('\r');
      const last = this.lines.length - 1;
      this.lines[last] = (overwritten >= 0 ? piece.slice(overwritten + 1) : this.lines[last] + piece).slice(-MAX_LINE_CHARS);
    }
    // Twice what is shown, so blank lines at the end do not push out the lines worth showing.
    if (this.lines.length > this.keep * 2) this.lines = this.lines.slice(-this.keep * 2);
  }

  /** The last lines, without a trailing empty line and without blank lines at the end. */
  text(): string {
    const lines = [...this.lines];
    while (lines.length > 0 && !lines[lines.length - 1].trim()) lines.pop();
    return lines.slice(-this.keep).join('\n');
  }
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export interface Finished {
  /** The task's name or the command line. */
  name: string;
  exitCode: number | undefined;
  durationMs: number;
  folder?: string;
  /** The last lines of output, or undefined when they could not be read. */
  output?: string;
  /** A user id or phone number to @-mention, e.g. the user's own. */
  mention?: string;
}

/** The words of the message, in the user's language (the VS Code side translates them). */
export interface FinishedLabels {
  succeeded: string;
  failed: string;
  unknownExit: string;
  exitCode: string;
  duration: string;
  folder: string;
  lastLines: string;
  outputUnavailable: string;
}

/** Title and markdown text of the notification. Names and output are in code spans and fences, never markup. */
export function finishedMarkdown(finished: Finished, labels: FinishedLabels): { title: string; text: string } {
  const icon = finished.exitCode === 0 ? '✅' : finished.exitCode === undefined ? '❔' : '❌';
  const outcome = finished.exitCode === 0 ? labels.succeeded : finished.exitCode === undefined ? labels.unknownExit : labels.failed;
  const name = finished.name.replace(/\s+/g, ' ').trim().slice(0, 200);
  const code = (text: string) => (text.includes('`') ? `\`\` ${text.replace(/`{2,}/g, '`')} \`\`` : `\`${text}\``);
  const lines = [
    `### ${icon} ${code(name)} ${outcome}`,
    '',
    `- ${labels.exitCode}: ${finished.exitCode ?? '?'}`,
    `- ${labels.duration}: ${formatDuration(finished.durationMs)}`,
    ...(finished.folder ? [`- ${labels.folder}: ${code(finished.folder)}`] : []),
    '',
  ];
  if (finished.output?.trim()) {
    const fence = fenceFor(finished.output);
    lines.push(`${labels.lastLines}:`, '', `${fence}text`, finished.output, fence);
  } else {
    lines.push(`_${labels.outputUnavailable}_`);
  }
  if (finished.mention && /^[\w.-]+$/.test(finished.mention)) lines.push('', `@${finished.mention}`);
  return { title: `${icon} ${name} ${outcome}`.slice(0, 100), text: lines.join('\n') };
}
