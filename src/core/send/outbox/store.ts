// The outbox file of a machine, in VS Code's global storage (shared by all its windows). Every change is a
// read-modify-write under a lock, written atomically (temporary file, fsync, rename), so a crash leaves the
// previous state and one window's write never loses another's jobs. A file that cannot be read is moved
// aside, never overwritten.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { withLock } from './lease';
import { emptyState, OutboxState, parseState } from './state';

export class OutboxStore {
  readonly file: string;
  private readonly lockPath: string;

  /** `dir`: the global storage folder. `legacyFile`: a v1 queue.json whose jobs are merged in once. */
  constructor(readonly dir: string, private readonly legacyFile?: string) {
    this.file = path.join(dir, 'outbox.json');
    this.lockPath = path.join(dir, 'outbox.json.lock');
  }

  /** The stored state, read without the lock (a consistent file thanks to the atomic rename). */
  async read(): Promise<OutboxState> {
    return (await this.readFile(this.file)) ?? emptyState();
  }

  /** Applies `change` to the stored state under the lock and saves it; returns the saved state and `change`'s result. */
  async update<T>(change: (state: OutboxState) => T): Promise<{ state: OutboxState; result: T }> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    return withLock(this.lockPath, async () => {
      const state = (await this.readFile(this.file)) ?? emptyState();
      const legacy = this.legacyFile ? await this.readFile(this.legacyFile) : undefined;
      if (legacy) mergeLegacy(state, legacy);
      const result = change(state);
      // Time-based, so a file moved aside and started anew still counts up from what every window has seen.
      state.rev = Math.max(state.rev + 1, Date.now());
      await this.write(state);
      if (legacy && this.legacyFile) await fs.rm(this.legacyFile, { force: true });
      return { state, result };
    });
  }

  private async readFile(file: string): Promise<OutboxState | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const state = parseState(parsed);
    if (!state) await fs.rename(file, `${file}.unreadable-${Date.now()}`).catch(() => undefined);
    return state;
  }

  private async write(state: OutboxState): Promise<void> {
    const temp = `${this.file}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`;
    try {
      const handle = await fs.open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(state), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, this.file);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }
}

function mergeLegacy(state: OutboxState, legacy: OutboxState): void {
  const known = new Set(state.jobs.map((j) => j.id));
  for (const job of legacy.jobs) if (!known.has(job.id)) state.jobs.push(job);
  for (const [robotId, window] of Object.entries(legacy.robots)) state.robots[robotId] ??= window;
}
