// The query of a `vscode://…/send?robot=…&text=…` link as the extension receives it: VS Code has already
// percent-decoded it once, so a value encoded once has lost the difference between its own `&` and the one
// between fields. Splitting only before a known field name keeps such a value whole; a value encoded twice
// (the documented form, safe for any text) is decoded here a second time.

/** The fields of `query` named in `keys` (the first of each), decoded; `+` is a space, as in a form. */
export function readLinkQuery(query: string, keys: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  if (!query || keys.length === 0) return fields;
  const names = keys.map((k) => k.replace(/[^A-Za-z0-9_]/g, '')).join('|');
  for (const segment of query.split(new RegExp(`&(?=(?:${names})=)`))) {
    const equals = segment.indexOf('=');
    if (equals < 0) continue;
    const key = segment.slice(0, equals);
    if (!keys.includes(key) || fields.has(key)) continue;
    fields.set(key, decodeOnce(segment.slice(equals + 1)));
  }
  return fields;
}

/** `+` as a space and each run of valid `%XX` decoded; a `%` that starts no valid sequence stays as it is. */
function decodeOnce(value: string): string {
  return value.replace(/\+/g, ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
