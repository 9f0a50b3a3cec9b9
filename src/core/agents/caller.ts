// Which extension called the exported API, read from the call stack: VS Code does not tell an API which
// extension is calling it. Best effort, used only to skip a confirmation for extensions the user trusts;
// anything unrecognised is treated as an unknown caller, which is always asked about.
import * as path from 'node:path';

export interface InstalledExtension {
  id: string;
  extensionPath: string;
}

/** File paths of a V8 stack trace, in order (innermost first). */
export function stackFiles(stack: string): string[] {
  const files: string[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const match = /(?:\(|at )((?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^()]*?):\d+:\d+\)?\s*$/.exec(line.trim());
    if (!match) continue;
    files.push(match[1].startsWith('file://') ? decodeURIComponent(match[1].slice('file://'.length)) : match[1]);
  }
  return files;
}

/**
 * The first extension on the stack outside `ownFiles` (this extension's bundle), or undefined when the
 * first outside frame belongs to no extension (VS Code itself, a test runner, an unknown script).
 */
export function callingExtension(
  stack: string, extensions: readonly InstalledExtension[], ownFiles: readonly string[],
): string | undefined {
  for (const file of stackFiles(stack)) {
    if (ownFiles.includes(file) || file.startsWith('node:')) continue;
    const owner = extensions.find((e) => file.startsWith(e.extensionPath + path.sep) || file.startsWith(`${e.extensionPath}/`));
    return owner?.id;
  }
  return undefined;
}

/** Whether `extensionId` is on the user's trust list (ids compare case-insensitively, as VS Code's do). */
export function isTrustedCaller(extensionId: string | undefined, trusted: readonly unknown[]): boolean {
  if (!extensionId) return false;
  const id = extensionId.toLowerCase();
  return trusted.some((t) => typeof t === 'string' && t.trim().toLowerCase() === id);
}
