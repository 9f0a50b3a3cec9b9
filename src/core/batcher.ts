// Collects items that arrive faster than their consumers should run and hands them over together: the first
// item after a quiet moment at once, then what arrives within the interval in one batch when it ends. Under a
// burst of callbacks the work per message after the gateway's answer (a line in the Output channel, the
// history, the views, the status bar) runs once per batch instead of once per message; a single message
// still shows without delay. Built on Throttle rather than a library: lodash's throttle is the same dozen lines
// plus a dependency, and it has no notion of the items in a batch.
import { Throttle } from './throttle';

export class Batcher<T> {
  private pending: T[] = [];
  private readonly throttle: Throttle;

  constructor(intervalMs: number, private readonly deliver: (items: T[]) => void, now?: () => number) {
    this.throttle = new Throttle(intervalMs, () => this.handOver(), now);
  }

  push(item: T): void {
    this.pending.push(item);
    this.throttle.schedule();
  }

  /** Hands over now what waits for the end of the interval. */
  flush(): void {
    this.throttle.flush();
  }

  private handOver(): void {
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    this.deliver(items);
  }

  /** Delivers what still waits (nothing received is dropped), then stops. */
  dispose(): void {
    this.throttle.flush();
    this.throttle.dispose();
  }
}
