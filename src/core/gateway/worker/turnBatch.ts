// Collects what one turn of the event loop produces and hands it over once, right after that turn
// (setImmediate): no added wait when quiet, one hand-over per turn under load.
export class TurnBatch<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(private readonly handOver: (items: T[]) => void) {}

  push(item: T): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Hands over now what this turn produced so far. */
  flush(): void {
    this.scheduled = false;
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    this.handOver(items);
  }
}
