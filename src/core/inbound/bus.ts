// The gateway owner's bus: the other windows of the machine connect to it (a Unix socket in the storage
// folder, owner-only, or a named pipe on Windows), present the token from the owner file, then receive what
// the gateway accepted and the pairing book as it changes, and ask the owner to stop or to approve a code.
// Kept in memory only: a message and its reply link never touch the disk on their way to another window.
import { timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import { errorMessage } from '../text/errorMessage';

/** One line of JSON; an inbound message is at most 1 MB, so a line is at most a little more. */
const MAX_LINE_BYTES = 2 * 1024 * 1024;

export type BusEvent = { type: 'inbox'; entry: unknown } | { type: 'pairing'; book: unknown };
export type BusRequest = { type: 'stop' } | { type: 'pairing'; op: 'approve' | 'deny' | 'revoke'; robotId: string; value: string };

type Frame =
  | { hello: string }
  | { event: BusEvent }
  | { id: number; request: BusRequest }
  | { id: number; result?: unknown; error?: string };

/** Splits a stream into JSON lines; a line too long or not JSON ends the connection. */
function readLines(socket: net.Socket, onFrame: (frame: Frame) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (Buffer.byteLength(buffered) > MAX_LINE_BYTES && !buffered.includes('\n')) {
      socket.destroy();
      return;
    }
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        onFrame(JSON.parse(line) as Frame);
      } catch {
        socket.destroy();
        return;
      }
    }
  });
  socket.on('error', () => undefined);
}

function send(socket: net.Socket, frame: Frame): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
}

function sameToken(given: unknown, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class BusServer {
  /** Windows that presented the token: they hear broadcasts. */
  private readonly clients = new Set<net.Socket>();
  /** Every connection, trusted or not yet: closed with the bus. */
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server, private readonly address: string) {}

  /**
   * Listens at `address`; a client is heard only after presenting `token`. `onJoin` gives what a window
   * that just connected must know (e.g. the pairing book).
   */
  static async listen(
    address: string, token: string, onRequest: (request: BusRequest) => Promise<unknown>, onJoin: () => BusEvent[],
  ): Promise<BusServer> {
    if (!address.startsWith('\\\\')) await fs.rm(address, { force: true });
    const server = net.createServer();
    const bus = new BusServer(server, address);
    server.on('connection', (socket) => bus.accept(socket, token, onRequest, onJoin));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => resolve());
    });
    if (!address.startsWith('\\\\')) await fs.chmod(address, 0o600).catch(() => undefined);
    return bus;
  }

  broadcast(event: BusEvent): void {
    for (const client of this.clients) send(client, { event });
  }

  get connections(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (!this.address.startsWith('\\\\')) await fs.rm(this.address, { force: true }).catch(() => undefined);
  }

  private accept(socket: net.Socket, token: string, onRequest: (request: BusRequest) => Promise<unknown>, onJoin: () => BusEvent[]): void {
    let trusted = false;
    this.sockets.add(socket);
    socket.on('close', () => {
      this.clients.delete(socket);
      this.sockets.delete(socket);
    });
    readLines(socket, (frame) => {
      if (!trusted) {
        trusted = 'hello' in frame && sameToken(frame.hello, token);
        if (!trusted) {
          socket.destroy();
          return;
        }
        this.clients.add(socket);
        for (const event of onJoin()) send(socket, { event });
        return;
      }
      if (!('request' in frame) || typeof frame.id !== 'number') return;
      onRequest(frame.request).then(
        (result) => send(socket, { id: frame.id, result }),
        (error: unknown) => send(socket, { id: frame.id, error: errorMessage(error) }),
      );
    });
  }
}

export class BusClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private closedValue = false;

  private constructor(private readonly socket: net.Socket) {}

  static async connect(address: string, token: string, onEvent: (event: BusEvent) => void, onClose: () => void): Promise<BusClient> {
    const socket = net.connect(address);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new BusClient(socket);
    readLines(socket, (frame) => {
      if ('event' in frame) onEvent(frame.event);
      else if ('id' in frame && !('request' in frame)) client.settle(frame);
    });
    socket.on('close', () => {
      client.closedValue = true;
      for (const { reject } of client.pending.values()) reject(new Error('the window that runs the gateway closed'));
      client.pending.clear();
      onClose();
    });
    send(socket, { hello: token });
    return client;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  request(request: BusRequest, timeoutMs = 15_000): Promise<unknown> {
    if (this.closedValue) return Promise.reject(new Error('the window that runs the gateway closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the window that runs the gateway did not answer'));
      }, timeoutMs);
      timer.unref?.();
      this.pending.set(id, {
        resolve: (value) => { clearTimeout(timer); resolve(value); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      send(this.socket, { id, request });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private settle(frame: { id: number; result?: unknown; error?: string }): void {
    const waiter = this.pending.get(frame.id);
    if (!waiter) return;
    this.pending.delete(frame.id);
    if (frame.error !== undefined) waiter.reject(new Error(frame.error));
    else waiter.resolve(frame.result);
  }
}
