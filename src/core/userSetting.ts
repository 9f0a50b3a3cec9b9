// Settings that protect the user are the user's: a workspace's `.vscode/settings.json` (a cloned repository)
// must not switch them off. VS Code's `inspect()` gives every layer; this picks the user's.

/** The layers of `WorkspaceConfiguration.inspect()` this module reads. */
export interface SettingLayers<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The user's value, else the default, else `fallback`. Workspace and folder values are ignored. */
export function userLevelValue<T>(layers: SettingLayers<T> | undefined, fallback: T): T {
  return layers?.globalValue ?? layers?.defaultValue ?? fallback;
}
