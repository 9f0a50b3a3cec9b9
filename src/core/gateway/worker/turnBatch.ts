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
    setImmediate(() => {
      this.scheduled = false;
      const items = this.items;
      this.items = [];
      this.handOver(items);
    });
  }
}
