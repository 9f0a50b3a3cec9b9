// A throw-away certificate authority for TLS tests, made with Debian's openssl in a temporary folder:
// the CA certificate is trusted only where a test says so (a `ca` option, or NODE_EXTRA_CA_CERTS for the
// code-server process), never in the machine's own store.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCa {
  /** The CA certificate (PEM) and the file holding it (for NODE_EXTRA_CA_CERTS). */
  cert: string;
  certFile: string;
  /** A server certificate for these host names / IP addresses, signed by this CA (cached per host list). */
  issue(hosts: string[]): { cert: string; key: string };
  dispose(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync('/usr/bin/openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function createTestCa(name = 'DingTalk Test CA'): TestCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-ca-'));
  openssl(['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const issued = new Map<string, { cert: string; key: string }>();
  let serial = 0;
  return {
    cert: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    certFile: path.join(dir, 'ca.crt'),
    issue(hosts) {
      const key = hosts.join(',');
      const known = issued.get(key);
      if (known) return known;
      const base = `leaf${++serial}`;
      const san = hosts.map((h) => (/^[\d.]+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      fs.writeFileSync(path.join(dir, `${base}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
      openssl(['req', '-new', ...EC_KEY, '-keyout', `${base}.key`, '-subj', `/CN=${hosts[0]}`, '-out', `${base}.csr`], dir);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(1000 + serial),
        '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.crt`], dir);
      const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
      const pair = { cert: read(`${base}.crt`), key: read(`${base}.key`) };
      issued.set(key, pair);
      return pair;
    },
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
