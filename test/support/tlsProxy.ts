// A TLS-intercepting CONNECT proxy, like a corporate gateway that inspects HTTPS: it accepts a tunnel to any
// host, answers the TLS handshake itself with a certificate for that host signed by its own CA, and sends
// the decrypted traffic to a local stand-in (`upstream`), so nothing leaves the machine. Optional basic
// authentication (407 with Proxy-Authenticate, as real proxies answer).
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TestCa } from './testCa';

export interface InterceptingProxy {
  url: string;
  /** `host:port` of each tunnel asked for, accepted or not, in order. */
  connects: string[];
  /** Tunnels refused for missing or wrong credentials. */
  refused: number;
  stop(): Promise<void>;
}

export interface InterceptingProxyOptions {
  ca: TestCa;
  /** Where the decrypted connection for `host:port` goes (a stand-in on 127.0.0.1). */
  upstream(host: string, port: number): { host: string; port: number };
  /** Required credentials (basic authentication). */
  credentials?: { user: string; password: string };
  /** Hand the client the plain stream instead of TLS (for http:// targets tunnelled through the proxy). */
  plainPorts?: number[];
}

export async function startInterceptingProxy(options: InterceptingProxyOptions): Promise<InterceptingProxy> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('only CONNECT');
  });
  const proxy: InterceptingProxy = { url: '', connects, refused: 0, stop: async () => undefined };
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  server.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const target = req.url ?? '';
    connects.push(target);
    if (expected && req.headers['proxy-authorization'] !== expected) {
      proxy.refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n' +
        'Content-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(target.slice(colon + 1));
    const to = options.upstream(host, port);
    const upstream = net.connect(to.port, to.host);
    upstream.on('error', () => client.destroy());
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (options.plainPorts?.includes(port)) {
      client.pipe(upstream).pipe(client);
      return;
    }
    const secure = new tls.TLSSocket(client, { isServer: true, ...options.ca.issue([host]) });
    secure.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
    secure.pipe(upstream).pipe(secure);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
