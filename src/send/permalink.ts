// Where a snippet's lines live on the git remote, through the built-in Git extension's API: a permalink at
// the current commit when the tracked branch contains it, "not pushed" when it does not, nothing when the
// file is not in a repository or the Git extension is missing or disabled.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HOST_KINDS, HOST_NAMES, HostKind, permalink, remoteRepository } from '../core/send/permalink';
import { settledWithin } from '../core/settledWithin';
import type { Snippet } from '../core/snippet';

/** The part of the Git extension's API (vscode.git, getAPI(1)) used here. */
interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly state: {
    readonly HEAD?: { readonly commit?: string; readonly upstream?: { readonly remote: string; readonly name: string } };
    readonly remotes: readonly { readonly name: string; readonly fetchUrl?: string; readonly pushUrl?: string }[];
    readonly workingTreeChanges: readonly { readonly uri: vscode.Uri }[];
    readonly indexChanges: readonly { readonly uri: vscode.Uri }[];
  };
  getMergeBase(ref1: string, ref2: string): Promise<string | undefined>;
  status?(): Promise<void>;
}
interface GitApi {
  readonly state: 'uninitialized' | 'initialized';
  readonly onDidChangeState: vscode.Event<'uninitialized' | 'initialized'>;
  getRepository(uri: vscode.Uri): GitRepository | null;
  openRepository?(root: vscode.Uri): Promise<GitRepository | null>;
}

const GIT_READY_TIMEOUT_MS = 10_000;

async function gitApi(): Promise<GitApi | undefined> {
  const extension = vscode.extensions.getExtension<{ enabled: boolean; getAPI(version: 1): GitApi }>('vscode.git');
  if (!extension) return undefined;
  const exports = extension.isActive ? extension.exports : await extension.activate();
  if (!exports?.enabled) return undefined;
  const api = exports.getAPI(1);
  if (api.state !== 'initialized') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), GIT_READY_TIMEOUT_MS);
      const listener = api.onDidChangeState((state) => state === 'initialized' && done());
      function done() {
        clearTimeout(timer);
        listener.dispose();
        resolve();
      }
    });
  }
  return api;
}

/** The innermost folder holding a `.git` around `uri`, searched up to its workspace folder only (never beyond it). */
function nearestRepositoryRoot(uri: vscode.Uri): string | undefined {
  const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
  if (!folder) return undefined;
  for (let dir = path.dirname(uri.fsPath); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    if (dir === folder || path.dirname(dir) === dir || !dir.startsWith(folder)) return undefined;
  }
}

/**
 * The file's own repository: the one the Git extension has, unless the file sits in a repository nested inside
 * it (or one the extension has not opened yet, e.g. deeper than its scan depth), which is opened through its API.
 */
async function repositoryOf(api: GitApi, uri: vscode.Uri): Promise<GitRepository | undefined> {
  const known = api.getRepository(uri) ?? undefined;
  const root = nearestRepositoryRoot(uri);
  if (!root || (known && path.relative(known.rootUri.fsPath, root) === '') || !api.openRepository) return known;
  return (await api.openRepository(vscode.Uri.file(root))) ?? known;
}

/** Hosts the user named as self-hosted GitHub or GitLab (machine setting: a workspace cannot add one). */
function selfHostedHosts(): Record<string, HostKind> {
  const inspected = vscode.workspace.getConfiguration('dingtalk').inspect<Record<string, string>>('permalink.selfHosted');
  const value = inspected?.globalValue ?? {};
  const known = (entry: [string, string]): entry is [string, HostKind] => HOST_KINDS.includes(entry[1] as HostKind);
  return Object.fromEntries(Object.entries(value).filter(known));
}

/** The snippet's origin for lines `startLine`..`endLine` (1-based) of a document, or undefined. */
export function snippetOrigin(document: vscode.TextDocument, startLine: number, endLine: number): Promise<Snippet['origin']> {
  return gitOrigin(document.uri, document.isDirty, startLine, endLine);
}

/** Where a whole file lives on the remote (Send Markdown File). */
export function fileOrigin(uri: vscode.Uri): Promise<Snippet['origin']> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  return gitOrigin(uri, open?.isDirty ?? false);
}

async function gitOrigin(uri: vscode.Uri, isDirty: boolean, startLine?: number, endLine?: number): Promise<Snippet['origin']> {
  if (uri.scheme !== 'file') return undefined;
  try {
    const api = await gitApi();
    const repository = api ? await repositoryOf(api, uri) : undefined;
    if (!repository) return undefined;
    // HEAD read now, at most 3 s: the Git extension notices a commit made outside VS Code a moment later, and a
    // link must never name the commit before (whose lines may differ).
    await settledWithin(repository.status?.() ?? Promise.resolve(), 3_000);
    const head = repository.state.HEAD;
    const upstream = head?.upstream;
    const remote = repository.state.remotes.find((r) => r.name === upstream?.remote);
    const remoteUrl = remote?.fetchUrl ?? remote?.pushUrl;
    const hosted = remoteUrl ? remoteRepository(remoteUrl, selfHostedHosts()) : undefined;
    const notPushed = { note: vscode.l10n.t('not pushed') };
    if (!head?.commit || !upstream) return notPushed;
    if (!hosted) return undefined;
    // The tracked branch contains the commit exactly when the commit is their merge base.
    const base = await repository.getMergeBase(head.commit, `refs/remotes/${upstream.remote}/${upstream.name}`);
    if (base !== head.commit) return notPushed;
    // Lines of a changed file need not match the commit's: say so rather than link to other lines.
    const changed = [...repository.state.workingTreeChanges, ...repository.state.indexChanges].some((c) => c.uri.fsPath === uri.fsPath);
    if (isDirty || changed) return { note: vscode.l10n.t('not committed') };
    const file = path.relative(repository.rootUri.fsPath, uri.fsPath).split(path.sep).join('/');
    const url = permalink(hosted, { path: file, commit: head.commit, startLine, endLine });
    return { url, text: vscode.l10n.t('View on {0}', HOST_NAMES[hosted.kind]) };
  } catch {
    // A permalink is a courtesy: the snippet goes without one rather than not at all.
    return undefined;
  }
}
