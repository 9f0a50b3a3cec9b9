// One loopback check: is this host name or address this computer only?

/** `localhost` (and `*.localhost`), `127.0.0.0/8`, `::1`, brackets allowed. `0.0.0.0` and `::` are every interface: not loopback. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}
