// The conversation history in memory and, when history is kept, in one file shared by every VS Code window
// on the machine. Each write re-reads the file, merges (by msgId, see conversations.ts) and replaces it
// atomically (temp file + rename), owner-only. Each window polls the file's stat (once a second) and merges
// what others wrote; whoever holds something the file lacks writes again, so the windows converge without a
// lock (a lock file would need stale-lock recovery for extension hosts that crash while holding it).
// Received messages are written in batches (one pending write, `writeDelayMs` after the first message of the
// batch, one fsync each): under a burst, a write per message cost more than everything else a message costs.
// Closing the window writes what is still waiting, synchronously, so nothing received is lost.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  clearHistory, emptySnapshot, HistorySnapshot, markRead, mergeSnapshots, MESSAGES_PER_CONVERSATION, normalize, parseSnapshot, sameHistory,
  ReceivedMessage,
} from './conversations';
import { errorMessage } from '../text/errorMessage';
import { appendMessages } from './appendMessage';

export type HistoryProblem =
  | { kind: 'load' | 'save'; detail: string }
  /** The file was not a history: moved aside (kept, never written over) and a new one started. */
  | { kind: 'unreadable'; detail: string };

export interface HistoryOptions {
  now?: () => number;
  /** The user's DingTalk user id or phone, to mark messages that @mention them. */
  me?: () => string | undefined;
  /** How often the file's stat is checked for other windows' writes (ms); at least 1000. */
  pollMs?: number;
  cap?: number;
  /** How long a received message may wait to be written with the next ones (ms); 500 unless told. */
  writeDelayMs?: number;
}

/** The batch waiting to be written, and who waits for it. */
interface PendingWrite {
  timer: NodeJS.Timeout;
  done: Promise<void>;
  settle(): void;
}

function errorDetail(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code ?? errorMessage(error);
}

export class ConversationHistory {
  private snapshot: HistorySnapshot = emptySnapshot();
  private file?: string;
  private problemValue?: HistoryProblem;
  private readonly listeners = new Set<() => void>();
  /** Reads and writes of the file, one at a time. */
  private chain: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly cap: number;
  private readonly writeDelayMs: number;
  private pending?: PendingWrite;
  /** A read-merge-write of the file is under way (see dispose). */
  private syncing = false;
  private disposed = false;

  constructor(private readonly options: HistoryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.pollMs = Math.max(1000, options.pollMs ?? 1000);
    this.cap = options.cap ?? MESSAGES_PER_CONVERSATION;
    this.writeDelayMs = Math.max(0, options.writeDelayMs ?? 500);
  }

  get current(): HistorySnapshot {
    return this.snapshot;
  }

  /** The last thing that went wrong with the file, until it works again. */
  get problem(): HistoryProblem | undefined {
    return this.problemValue;
  }

  get persistent(): boolean {
    return this.file !== undefined;
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Keeps the history in `file` (merged with what it holds, then watched), or only in memory when
   * undefined. Switching to memory only leaves the file alone: `deleteFile` removes it.
   */
  async useFile(file: string | undefined): Promise<void> {
    if (this.file === file) return;
    this.unwatch();
    this.file = file;
    this.problemValue = undefined;
    if (!file) {
      this.cancelPending(); // history is no longer kept: what waits is not written
      // A write already under way finishes first, so a caller that deletes the file next deletes it for good.
      await this.chain;
      return this.changed();
    }
    fs.watchFile(file, { interval: this.pollMs, persistent: false }, this.onFileChanged);
    await this.sync();
  }

  /** Shows the messages at once; the promise settles once they are written (with the others of their batch). */
  add(...received: ReceivedMessage[]): Promise<void> {
    this.snapshot = appendMessages(this.snapshot, received, this.now(), this.options.me?.(), this.cap);
    this.changed();
    return this.scheduleSync();
  }

  /** Marks one conversation (or all, without a key) read, in every window. */
  async markRead(key?: string): Promise<void> {
    const next = markRead(this.snapshot, key);
    if (JSON.stringify(next) === JSON.stringify(this.snapshot)) return;
    this.snapshot = next;
    this.changed();
    await this.sync();
  }

  /** Empties the history, in every window (the clear time is merged like everything else). */
  async clear(): Promise<void> {
    this.snapshot = clearHistory(this.snapshot, this.now());
    if (this.problemValue?.kind === 'unreadable') this.problemValue = undefined;
    this.changed();
    await this.sync();
  }

  /** Removes the history file (history is no longer kept); what this window shows stays in memory. */
  static async deleteFile(file: string): Promise<void> {
    await fs.promises.rm(file, { force: true });
  }

  /** Merges the file into memory and memory into the file (written only when that changes it). */
  sync(): Promise<void> {
    const pending = this.cancelPending(); // this sync writes what the batch holds
    const run = this.chain.then(() => this.syncNow());
    this.chain = run.catch(() => undefined);
    if (pending) void run.then(pending.settle, pending.settle);
    return run;
  }

  /** Settles once the reads and writes already under way are done (starts none). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Joins the batch waiting to be written, or starts one. */
  private scheduleSync(): Promise<void> {
    if (!this.file || this.disposed) return Promise.resolve();
    if (this.pending) return this.pending.done;
    let settle = () => undefined as void;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    const timer = setTimeout(() => void this.sync(), this.writeDelayMs);
    this.pending = { timer, done, settle };
    return done;
  }

  private cancelPending(): PendingWrite | undefined {
    const pending = this.pending;
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending = undefined;
    return pending;
  }

  private readonly onFileChanged = (current: fs.Stats, previous: fs.Stats): void => {
    // Gone: another window stopped keeping history (or the user deleted it). Writing it back from memory would undo
    // that; a window whose settings never told it (one closing, its page already gone) must not.
    if (current.nlink === 0 && current.mtimeMs === 0) {
      this.cancelPending()?.settle(); // nor by the batch waiting to be written: what it holds stays shown
      return;
    }
    if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size) void this.sync();
  };

  private async syncNow(): Promise<void> {
    const file = this.file;
    if (!file || this.disposed) return;
    this.syncing = true;
    try {
      const onDisk = await this.read(file);
      if (onDisk === undefined) return; // unreadable for now: never written over
      if (file !== this.file || this.disposed) return; // switched while reading
      const { merged, text, grew } = this.mergeWith(onDisk.snapshot);
      this.snapshot = merged;
      if (text !== onDisk.text) await this.write(file, text);
      else this.resolved();
      if (grew) this.changed();
    } finally {
      this.syncing = false;
    }
  }

  /** Memory merged with what the file holds; `grew` when that changes what memory held. */
  private mergeWith(onDisk: HistorySnapshot): { merged: HistorySnapshot; text: string; grew: boolean } {
    const merged = mergeSnapshots(normalize(this.snapshot, this.now(), this.cap), onDisk, this.now(), this.cap);
    const text = JSON.stringify(merged);
    // Only what the file added redraws the view: a redraw after our own write, half a second after the message
    // showed, would close a menu the user had just opened on it.
    return { merged, text, grew: !sameHistory(merged, this.snapshot) };
  }

  private async read(file: string): Promise<{ snapshot: HistorySnapshot; text: string } | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { snapshot: emptySnapshot(), text: '' };
      this.fail({ kind: 'load', detail: errorDetail(error) });
      return undefined;
    }
    let parsed: HistorySnapshot | undefined;
    try {
      parsed = parseSnapshot(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (parsed) return { snapshot: normalize(parsed, this.now(), this.cap), text };
    const aside = `${file}.unreadable-${this.now()}`;
    try {
      await fs.promises.rename(file, aside);
    } catch (error) {
      this.fail({ kind: 'load', detail: errorDetail(error) });
      return undefined;
    }
    this.fail({ kind: 'unreadable', detail: aside });
    return { snapshot: emptySnapshot(), text: '' };
  }

  private async write(file: string, text: string): Promise<void> {
    const dir = path.dirname(file);
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`);
    try {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      await fs.promises.chmod(dir, 0o700);
      const handle = await fs.promises.open(temp, 'w', 0o600);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      // Closed meanwhile: dispose wrote memory (everything this holds, and what came after) itself.
      if (this.disposed) throw Object.assign(new Error('closed'), { code: 'closed' });
      await fs.promises.rename(temp, file);
      this.resolved();
    } catch (error) {
      await fs.promises.rm(temp, { force: true }).catch(() => undefined);
      this.fail({ kind: 'save', detail: errorDetail(error) });
    }
  }

  private fail(problem: HistoryProblem): void {
    this.problemValue = problem;
    this.changed();
  }

  /** The file works again: a load or save problem is no longer shown (a moved-aside file still is). */
  private resolved(): void {
    if (!this.problemValue || this.problemValue.kind === 'unreadable') return;
    this.problemValue = undefined;
    this.changed();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private unwatch(): void {
    if (this.file) fs.unwatchFile(this.file, this.onFileChanged);
  }

  dispose(): void {
    if (this.disposed) return;
    this.unwatch();
    this.listeners.clear();
    const unsaved = this.cancelPending();
    this.disposed = true;
    if (this.file && (unsaved || this.syncing)) this.writeNowSync(this.file);
    unsaved?.settle();
    this.file = undefined;
  }

  /**
   * The last write, when the window closes: synchronous, because an extension host does not wait for
   * promises in dispose. Read, merge, write a temp file, fsync, rename, like every other write.
   */
  private writeNowSync(file: string): void {
    const dir = path.dirname(file);
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`);
    try {
      let onDisk: HistorySnapshot | undefined;
      try {
        onDisk = parseSnapshot(JSON.parse(fs.readFileSync(file, 'utf8')));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') onDisk = emptySnapshot();
      }
      if (!onDisk) return; // unreadable is never written over (the next window moves it aside)
      const { text } = this.mergeWith(normalize(onDisk, this.now(), this.cap));
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(dir, 0o700);
      const fd = fs.openSync(temp, 'w', 0o600);
      try {
        fs.writeFileSync(fd, text, 'utf8');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, file);
    } catch {
      fs.rmSync(temp, { force: true }); // closing: nowhere left to show the problem
    }
  }
}
