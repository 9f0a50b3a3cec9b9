// Remembers the most recent message ids (first in, first out) so a message DingTalk delivers twice
// (retries, Stream redelivery) is shown once. Memory is bounded: at most `capacity` ids, each at most LONG_ID characters.
import { createHash } from 'node:crypto';

/** Longer ids are remembered by their SHA-256, so one huge id cannot take much memory. */
const LONG_ID = 128;

export class RecentIds {
  /** Each remembered key and its slot in `ring`. */
  private readonly ids = new Map<string, number>();
  /**
   * Insertion order as a ring: the slot at `next` holds the oldest id, overwritten (and forgotten) by the next
   * new one. Evicting by deleting the first entry of an insertion-ordered Map instead costs microseconds per call in V8, because
   * iteration has to skip the deleted entries left at the front of its table.
   */
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<string | undefined>(capacity).fill(undefined);
  }

  private key(id: string): string {
    return id.length > LONG_ID ? `#${createHash('sha256').update(id, 'utf8').digest('base64')}` : `=${id}`;
  }

  /** True if `id` is among the last `capacity` distinct ids recorded; otherwise records it and returns false. */
  seen(id: string): boolean {
    const key = this.key(id);
    if (this.ids.has(key)) return true;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.ids.delete(oldest);
    this.ring[this.next] = key;
    this.ids.set(key, this.next);
    this.next = (this.next + 1) % this.capacity;
    return false;
  }

  /** Whether `id` is remembered, without recording it. */
  has(id: string): boolean {
    return this.ids.has(this.key(id));
  }

  /** Forgets `id`, e.g. when handling it failed and a redelivery should be processed. */
  forget(id: string): void {
    const key = this.key(id);
    const slot = this.ids.get(key);
    if (slot === undefined) return;
    this.ring[slot] = undefined;
    this.ids.delete(key);
  }

  get size(): number {
    return this.ids.size;
  }

  clear(): void {
    this.ids.clear();
    this.ring.fill(undefined);
    this.next = 0;
  }
}
