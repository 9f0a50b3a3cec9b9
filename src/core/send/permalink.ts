// A link to lines of a file at a commit on the web page of the repository's host, from the remote's URL
// (HTTPS, SSH or scp-like, with or without ports, user names and `.git`).

export type HostKind = 'github' | 'gitlab' | 'gitee' | 'bitbucket' | 'azure' | 'codeup';

export const HOST_KINDS: HostKind[] = ['github', 'gitlab', 'gitee', 'bitbucket', 'azure', 'codeup'];

/** The name a user knows the host by, for the link's text. */
export const HOST_NAMES: Record<HostKind, string> = {
  github: 'GitHub', gitlab: 'GitLab', gitee: 'Gitee', bitbucket: 'Bitbucket', azure: 'Azure DevOps', codeup: 'Codeup',
};

const KNOWN_HOSTS: Record<string, HostKind> = {
  'github.com': 'github',
  'ssh.github.com': 'github',
  'gitlab.com': 'gitlab',
  'altssh.gitlab.com': 'gitlab',
  'gitee.com': 'gitee',
  'bitbucket.org': 'bitbucket',
  'altssh.bitbucket.org': 'bitbucket',
  'dev.azure.com': 'azure',
  'ssh.dev.azure.com': 'azure',
  'vs-ssh.visualstudio.com': 'azure',
  'codeup.aliyun.com': 'codeup',
};

export interface RemoteRepository {
  kind: HostKind;
  /** The web origin, e.g. https://github.com or https://git.example.com:8443. */
  origin: string;
  /** Path segments of the repository on the host: owner/repo, group/sub/repo, or org/project/repo for Azure. */
  segments: string[];
}

export interface PermalinkTarget {
  /** Path of the file inside the repository, forward slashes. */
  path: string;
  commit: string;
  /** 1-based, inclusive; without them the link is to the whole file. */
  startLine?: number;
  endLine?: number;
}

interface ParsedRemote {
  scheme: string;
  host: string;
  port?: string;
  path: string;
}

/** Splits https://, ssh://, git:// and scp-like (git@host:owner/repo) remote URLs. */
function parseRemote(remote: string): ParsedRemote | undefined {
  const text = remote.trim();
  const url = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?(\/.*)?$/i.exec(text);
  if (url) return { scheme: url[1].toLowerCase(), host: url[2].toLowerCase(), port: url[3], path: url[4] ?? '' };
  const scp = /^(?:[^@/]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(text);
  if (scp) return { scheme: 'ssh', host: scp[1].toLowerCase(), path: scp[2] };
  return undefined;
}

/**
 * The repository a remote URL points at, or undefined when its host is neither a known one nor one the user
 * named in `selfHosted` (host → kind, e.g. { "git.example.com": "gitlab" }).
 */
export function remoteRepository(remote: string, selfHosted: Record<string, HostKind> = {}): RemoteRepository | undefined {
  const parsed = parseRemote(remote);
  if (!parsed) return undefined;
  const configured = Object.entries(selfHosted).find(([host]) => host.trim().toLowerCase() === parsed.host)?.[1];
  const kind = configured ?? KNOWN_HOSTS[parsed.host] ?? (parsed.host.endsWith('.visualstudio.com') ? 'azure' : undefined);
  if (!kind || !HOST_KINDS.includes(kind)) return undefined;
  let segments = parsed.path.replace(/\.git\/?$/, '').replace(/\/+$/, '').split('/').filter(Boolean).map(safeDecode);
  // An HTTPS port belongs to the web address; an SSH port does not.
  const webPort = parsed.scheme === 'https' || parsed.scheme === 'http' ? parsed.port : undefined;
  let host = parsed.host;
  if (kind === 'azure') {
    const azure = azureSegments(parsed.host, segments);
    if (!azure) return undefined;
    segments = azure;
    host = 'dev.azure.com';
  } else if (host.startsWith('ssh.') || host.startsWith('altssh.')) {
    host = host.replace(/^(alt)?ssh\./, '');
  }
  if (segments.length < 2) return undefined;
  const scheme = parsed.scheme === 'http' ? 'http' : 'https';
  return { kind, origin: `${scheme}://${host}${webPort ? `:${webPort}` : ''}`, segments };
}

/** Azure DevOps spells one repository five ways; all become organisation, project, repository. */
function azureSegments(host: string, segments: string[]): string[] | undefined {
  if (segments[0] === 'v3') return segments.length === 4 ? segments.slice(1) : undefined; // ssh.dev.azure.com:v3/org/project/repo
  const git = segments.indexOf('_git');
  if (git < 0 || git + 1 >= segments.length) return undefined;
  const before = segments.slice(0, git).filter((s) => s !== 'DefaultCollection');
  const repo = segments[git + 1];
  if (host === 'dev.azure.com') {
    if (before.length === 2) return [before[0], before[1], repo];
    return before.length === 1 ? [before[0], repo, repo] : undefined;
  }
  const org = host.split('.')[0]; // org.visualstudio.com/project/_git/repo
  return before.length === 1 ? [org, before[0], repo] : before.length === 0 ? [org, repo, repo] : undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Percent-encoding that also covers the characters that would end a markdown link: ( ) and spaces. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[()'!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodePath(path: string): string {
  return path.split('/').filter(Boolean).map(encodeSegment).join('/');
}

/** The web link to the target's lines on the repository's host. */
export function permalink(repository: RemoteRepository, target: PermalinkTarget): string {
  const base = `${repository.origin}/${repository.segments.map(encodeSegment).join('/')}`;
  const file = encodePath(target.path);
  const { commit } = target;
  const start = target.startLine;
  const end = target.endLine ?? start;
  const lines = (first: string, rest: string) => (start === undefined ? '' : `${first}${start}${end === start ? '' : `${rest}${end}`}`);
  switch (repository.kind) {
    case 'github':
    case 'gitee':
    case 'codeup':
      return `${base}/blob/${commit}/${file}${lines('#L', '-L')}`;
    case 'gitlab':
      return `${base}/-/blob/${commit}/${file}${lines('#L', '-')}`;
    case 'bitbucket':
      return `${base}/src/${commit}/${file}${lines('#lines-', ':')}`;
    case 'azure': {
      const [org, project, repo] = repository.segments.map(encodeSegment);
      const range = start === undefined
        ? ''
        : `&line=${start}&lineEnd=${(end ?? start) + 1}&lineStartColumn=1&lineEndColumn=1&lineStyle=plain`;
      return `${repository.origin}/${org}/${project}/_git/${repo}?path=/${file}&version=GC${commit}${range}&_a=contents`;
    }
  }
}

/** The permalink for a remote URL, or undefined when the host is not one we know how to link to. */
export function permalinkFor(remote: string, target: PermalinkTarget, selfHosted: Record<string, HostKind> = {}): string | undefined {
  const repository = remoteRepository(remote, selfHosted);
  return repository ? permalink(repository, target) : undefined;
}
