// Loads the packaged bundle (dist/extension.js) in a fresh process with a no-op `vscode` module and times
// the require and activate() separately: this isolates the extension's own start-up work from the editor's.
// Every API call answers with a harmless stub; settings answer their defaults, as on a first install.
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

type Stub = ((...args: unknown[]) => Stub) & Record<PropertyKey, unknown>;

/** Callable, constructible, any property is another stub (or what was assigned); never a thenable, converts to ''. */
function stub(): Stub {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(function () { /* stub */ } as unknown as Stub, {
    get(target, key) {
      if (key === 'then') return undefined;
      if (key === Symbol.toPrimitive) return () => '';
      if (key === Symbol.iterator) return function* () { /* empty */ };
      if (!cache.has(key)) cache.set(key, stub());
      return cache.get(key);
    },
    set(target, key, value) {
      cache.set(key, value);
      return true;
    },
    apply: () => stub(),
    construct: () => stub(),
  });
}

/** The API namespaces and classes the extension uses, each a stub; settings answer their defaults. */
function fakeVscode(): Record<string, unknown> {
  const configuration = {
    get: (_key: string, fallback?: unknown) => fallback, has: () => false, inspect: () => undefined, update: async () => undefined,
  };
  const names = [
    'window', 'commands', 'env', 'extensions', 'languages', 'Uri', 'EventEmitter', 'Disposable', 'ThemeColor', 'ThemeIcon',
    'StatusBarAlignment', 'ProgressLocation', 'ViewColumn', 'ConfigurationTarget', 'QuickPickItemKind', 'MarkdownString',
    'LogLevel', 'TreeItem', 'Range', 'Position', 'Selection', 'CancellationTokenSource', 'RelativePattern', 'tasks', 'ShellExecution',
    'ExtensionMode', 'lm', 'LanguageModelToolResult', 'LanguageModelTextPart', 'TreeItemCollapsibleState', 'FileType',
  ];
  const vscode: Record<string, unknown> = Object.fromEntries(names.map((name) => [name, stub()]));
  vscode.workspace = new Proxy(stub(), { get: (target, key) => (key === 'getConfiguration' ? () => configuration : key === 'isTrusted' ? true : target[key]) });
  vscode.l10n = { t: (message: string | { message: string }) => (typeof message === 'string' ? message : message.message), bundle: undefined, uri: undefined };
  return vscode;
}

function fakeContext(): unknown {
  const memento = () => {
    const values = new Map<string, unknown>();
    return {
      get: (k: string, d?: unknown) => (values.has(k) ? values.get(k) : d),
      update: async (k: string, v: unknown) => { values.set(k, v); },
      keys: () => [...values.keys()],
      setKeysForSync: () => undefined,
    };
  };
  const storage = path.join(os.tmpdir(), 'dingtalk-bench-activation');
  const uri = (fsPath: string) => ({ fsPath, path: fsPath, scheme: 'file', toString: () => `file://${fsPath}` });
  return {
    subscriptions: [] as unknown[],
    globalState: memento(),
    workspaceState: memento(),
    secrets: {
      get: async () => undefined, store: async () => undefined, delete: async () => undefined,
      onDidChange: () => ({ dispose() { /* stub */ } }),
    },
    extensionUri: uri(path.resolve(__dirname, '..', '..')),
    extensionPath: path.resolve(__dirname, '..', '..'),
    globalStorageUri: uri(storage),
    globalStoragePath: storage,
    logUri: uri(storage),
    extensionMode: 1,
    asAbsolutePath: (p: string) => path.resolve(__dirname, '..', '..', p),
  };
}

if (require.main === module) {
  const vscode = fakeVscode();
  const load = (Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown })._load;
  (Module as unknown as { _load: typeof load })._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? vscode : load(request, ...rest));
  const bundle = path.resolve(__dirname, '..', '..', 'dist', 'extension.js');
  const t0 = performance.now();
  // require(), not import(): the number measured is the synchronous load VS Code does.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const extension = require(bundle) as { activate(context: unknown): void };
  const t1 = performance.now();
  extension.activate(fakeContext());
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1 }));
  // Anything activate() started in the background (loading the queue) may finish or not: the numbers are out.
  process.exit(0);
}
