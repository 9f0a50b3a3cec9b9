// The only "the network is back" signal Node offers: the computer's addresses change (Wi-Fi joined, a VPN up,
// a cable in). Neither VS Code nor Node reports connectivity to extensions, so while messages wait offline the
// addresses are compared every few seconds; a change makes them go at once instead of after their backoff.
import { networkInterfaces } from 'node:os';

/** The computer's external addresses, in a stable order (internal and link-local ones left out). */
export function addressSignature(read: typeof networkInterfaces = networkInterfaces): string {
  const addresses: string[] = [];
  for (const [name, entries] of Object.entries(read())) {
    for (const entry of entries ?? []) {
      const linkLocal = entry.address.startsWith('fe80:') || entry.address.startsWith('169.254.');
      if (!entry.internal && !linkLocal) addresses.push(`${name}=${entry.address}`);
    }
  }
  return addresses.sort().join(',');
}

export interface NetworkWatchOptions {
  /** Whether anything waits for the network now; the addresses are read only then. */
  active(): boolean;
  onChange(): void;
  intervalMs?: number;
  read?: typeof networkInterfaces;
}

/** Calls onChange when the addresses differ from the last reading; returns a function that stops it. */
export function watchNetwork(options: NetworkWatchOptions): () => void {
  const read = options.read ?? networkInterfaces;
  let last: string | undefined;
  const timer = setInterval(() => {
    if (!options.active()) {
      last = undefined;
      return;
    }
    let now: string;
    try {
      now = addressSignature(read);
    } catch {
      return;
    }
    if (last !== undefined && now !== last) options.onChange();
    last = now;
  }, options.intervalMs ?? 3_000);
  timer.unref();
  return () => clearInterval(timer);
}
