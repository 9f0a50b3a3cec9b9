// One gateway per machine: the window holding the gateway lease owns the HTTP listener and every Stream
// connection (two Stream connections with one app's credentials would split the messages between them).
// The owner describes itself in owner.json beside the lease (which window, what it runs, where its bus is);
// the other windows read it when the folder changes and once a second, and take over when the lease is free
// and the gateway is still wanted (its owner closed or died) — never after a user stopped it.
import { randomBytes, randomUUID } from 'node:crypto';
import { FSWatcher, promises as fs, watch } from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { Lease } from '../send/outbox/lease';

export type GatewayStatus =
  | { kind: 'stopped' }
  | { kind: 'listening'; url: string; publicUrl?: string; exposed?: boolean }
  | { kind: 'stream'; connected: number; total: number; /** A line for each app not connected: why. */ trouble?: string[] };

export interface OwnerRecord {
  id: string;
  pid: number;
  /** What the user recognises the window by (its workspace name). */
  label: string;
  since: number;
  status: GatewayStatus;
  /** Where the owner's bus listens, and the token a window presents there. */
  socket: string;
  token: string;
}

export interface OwnerFile {
  /** False once a user stopped the gateway: nobody takes over until someone starts it again. */
  wanted: boolean;
  owner?: OwnerRecord;
}

/** What a window sees: whether the gateway is wanted, and the owner if one holds the lease (maybe itself). */
export interface OwnershipView {
  wanted: boolean;
  owner?: OwnerRecord;
  self: boolean;
}

export interface OwnershipOptions {
  dir: string;
  label: string;
  /** A silent owner is replaced after this long (default 5 s). */
  staleMs?: number;
  /** How often other windows look at the owner file and the lease (default 1 s; never hotter). */
  pollMs?: number;
}

/** Pure: a window with autoStart takes over a wanted gateway whose lease nobody holds. */
export function shouldTakeOver(view: OwnershipView, autoStart: boolean, leaseFree: boolean): boolean {
  return autoStart && view.wanted && !view.self && leaseFree;
}

export function parseOwnerFile(text: string | undefined): OwnerFile {
  if (!text) return { wanted: false };
  try {
    const raw = JSON.parse(text) as Partial<OwnerFile>;
    const owner = raw.owner;
    const valid = owner && typeof owner === 'object' && typeof owner.id === 'string' && typeof owner.label === 'string'
      && typeof owner.socket === 'string' && typeof owner.token === 'string' && typeof owner.status === 'object';
    return { wanted: raw.wanted === true, ...(valid ? { owner } : {}) };
  } catch {
    return { wanted: false };
  }
}

/** The owner's bus address: a socket in the storage folder, or a named pipe on Windows. */
export function busAddress(dir: string, id: string, platform = process.platform): string {
  if (platform === 'win32') return `\\\\?\\pipe\\dingtalk-gateway-${id}`;
  const inDir = path.join(dir, `bus-${id.slice(0, 8)}.sock`);
  // A Unix socket path is limited to about 104 bytes.
  return Buffer.byteLength(inDir) < 100 ? inDir : path.join('/tmp', `dingtalk-gateway-${id.slice(0, 12)}.sock`);
}

export class GatewayOwnership {
  readonly id = randomUUID();
  readonly token = randomBytes(24).toString('base64url');
  readonly socket: string;
  private readonly lease: Lease;
  private readonly lockPath: string;
  private readonly file: string;
  private readonly staleMs: number;
  private viewValue: OwnershipView = { wanted: false, self: false };
  private status: GatewayStatus = { kind: 'stopped' };
  private since = 0;
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private readonly listeners = new Set<(view: OwnershipView) => void>();
  private lostListener?: () => void;
  private writes: Promise<void> = Promise.resolve();
  private refreshing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: OwnershipOptions) {
    this.staleMs = options.staleMs ?? 5_000;
    this.lockPath = path.join(options.dir, 'gateway.lock');
    this.file = path.join(options.dir, 'owner.json');
    this.socket = busAddress(options.dir, this.id);
    this.lease = new Lease(this.lockPath, { staleMs: this.staleMs });
    this.lease.onLost(() => {
      this.lostListener?.();
      void this.refresh();
    });
  }

  get isOwner(): boolean {
    return this.lease.held;
  }

  get view(): OwnershipView {
    return this.viewValue;
  }

  onChange(listener: (view: OwnershipView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another window took the lease this one let go stale (its event loop stalled, the clock jumped). */
  onLost(listener: () => void): void {
    this.lostListener = listener;
  }

  /** Follows the owner file: on every change in the folder, and once a second (fs.watch is only a hint). */
  async follow(onTick?: () => void): Promise<void> {
    await fs.mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    await this.refresh();
    try {
      this.watcher = watch(this.options.dir, { persistent: false }, (_event, name) => { if (name === 'owner.json') void this.refresh(); });
      this.watcher.on('error', () => undefined);
    } catch {
      // The poll below still follows the file.
    }
    this.poll = setInterval(() => {
      void this.refresh();
      onTick?.();
    }, Math.max(1_000, this.options.pollMs ?? 1_000));
    this.poll.unref?.();
  }

  /**
   * Takes the gateway if nobody runs it; true when this window is the owner now. A takeover (`onlyIfWanted`)
   * gives the lease back when the gateway was stopped meanwhile: wanted is written only under the lease, so
   * what is read once it is held is the last word.
   */
  async claim(status: GatewayStatus, onlyIfWanted = false): Promise<boolean> {
    await fs.mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    if (!(await this.lease.tryAcquire())) {
      await this.refresh();
      return false;
    }
    if (onlyIfWanted && !parseOwnerFile(await fs.readFile(this.file, 'utf8').catch(() => undefined)).wanted) {
      await this.lease.release();
      await this.refresh();
      return false;
    }
    this.since = Date.now();
    this.status = status;
    await this.writeOwner(true);
    return true;
  }

  /** The owner tells the other windows what it runs now. */
  async publish(status: GatewayStatus): Promise<void> {
    this.status = status;
    if (this.lease.held) await this.writeOwner(true);
  }

  /** Lets the gateway go: `wanted` false when a user stopped it, true when the window closes (hand over). */
  async release(wanted: boolean): Promise<void> {
    if (!this.lease.held) return;
    this.status = { kind: 'stopped' };
    await this.enqueueWrite({ wanted });
    await this.lease.release();
    await this.refresh();
  }

  /** Whether the lease is free (nobody holds it, or its holder went silent). */
  async leaseFree(): Promise<boolean> {
    if (this.lease.held) return false;
    return !(await lockfile.check(this.lockPath, { lockfilePath: this.lockPath, realpath: false, stale: this.staleMs }).catch(() => false));
  }

  /** Reads the owner file and the lease again (one read at a time, so the last view is the newest). */
  refresh(): Promise<OwnershipView> {
    const next = this.refreshing.then(() => this.read());
    this.refreshing = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<OwnershipView> {
    const self = this.lease.held;
    // The lease first, then the file: an owner writes the file before it lets the lease go, so a free lease
    // is never paired with the file as it was before that last write.
    const heldElsewhere = !self && !(await this.leaseFree());
    const text = await fs.readFile(this.file, 'utf8').catch(() => undefined);
    const stored = parseOwnerFile(text);
    // An owner record whose lease is gone (SIGKILL, crash) names nobody.
    const alive = stored.owner && (self ? stored.owner.id === this.id : heldElsewhere);
    const view: OwnershipView = { wanted: stored.wanted, self, ...(alive ? { owner: stored.owner } : {}) };
    if (JSON.stringify(view) !== JSON.stringify(this.viewValue)) {
      this.viewValue = view;
      for (const listener of [...this.listeners]) listener(view);
    }
    return view;
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    this.watcher?.close();
    this.listeners.clear();
    await this.writes;
  }

  private writeOwner(wanted: boolean): Promise<void> {
    const owner: OwnerRecord = {
      id: this.id, pid: process.pid, label: this.options.label, since: this.since,
      status: this.status, socket: this.socket, token: this.token,
    };
    return this.enqueueWrite({ wanted, owner }).then(() => this.refresh().then(() => undefined));
  }

  /** Atomic (temporary file, rename), owner-only; one write at a time from this window. */
  private enqueueWrite(content: OwnerFile): Promise<void> {
    this.writes = this.writes.then(async () => {
      const temp = `${this.file}.${this.id.slice(0, 8)}.tmp`;
      await fs.writeFile(temp, JSON.stringify(content), { mode: 0o600 });
      await fs.rename(temp, this.file);
    }).catch(() => undefined);
    return this.writes;
  }
}
