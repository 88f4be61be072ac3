/**
 * The deliveries waiting for one receiver: first in, first out, at most
 * `capacity`. Pushing onto a full queue drops the oldest (a receiver that is
 * down must not grow memory without bound), and counts it.
 */
export class WebhookQueue<T> {
  private items: T[] = [];
  private head = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `WebhookQueue capacity must be a positive whole number; got ${capacity}`,
      );
    }
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** How many items were dropped to make room, since the queue was made. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Adds `item`; returns the item dropped to make room for it, if one was. */
  push(item: T): { dropped: T } | null {
    let dropped: { dropped: T } | null = null;
    if (this.size >= this.capacity) {
      dropped = { dropped: this.shift() as T };
      this.droppedCount++;
    }
    this.items.push(item);
    return dropped;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns everything waiting. */
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}
