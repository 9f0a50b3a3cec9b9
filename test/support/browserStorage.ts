// What the workbench keeps in the browser: code-server stores the workbench's own state (webview state,
// a web window's workspaceState) in IndexedDB where desktop VS Code uses state.vscdb. Read all of it as text
// so a secret scan can look there too.
import type { Page } from 'playwright-core';

/** Every IndexedDB database of the page's origin, every store, keys and values as text; plus local/session storage. */
export async function browserStorageText(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const decoder = new TextDecoder('utf-8', { fatal: false });
    const asText = (value: unknown): string => {
      if (value instanceof Uint8Array) return decoder.decode(value);
      if (value instanceof ArrayBuffer) return decoder.decode(new Uint8Array(value));
      if (typeof value === 'string') return value;
      try {
        return JSON.stringify(value, (_key, v) => (v instanceof Uint8Array ? decoder.decode(v) : v));
      } catch {
        return String(value);
      }
    };
    const request = <T>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const out: string[] = [];
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(info.name!);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const name of Array.from(db.objectStoreNames)) {
        const store = db.transaction(name, 'readonly').objectStore(name);
        const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
        keys.forEach((key, i) => out.push(`${info.name}/${name}/${asText(key)} = ${asText(values[i])}`));
      }
      db.close();
    }
    for (const storage of [localStorage, sessionStorage]) {
      for (let i = 0; i < storage.length; i++) out.push(`${storage.key(i)} = ${storage.getItem(storage.key(i)!)}`);
    }
    return out.join('\n');
  });
}
