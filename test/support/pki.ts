/**
 * A throw-away PKI for TLS tests, made with the openssl CLI: a CA, a server
 * certificate (SAN IP:127.0.0.1, IP:::1, DNS:localhost by default) and client
 * certificates (CN = the name, plus DNS SAN = the name unless told otherwise).
 * ECDSA P-256 keys, valid for two days. Everything is a file path in `dir`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A client certificate: `name` keys the result; `cn` (default: name) and `dns` (default: [name]) go in the certificate. */
export interface ClientSpec {
  readonly name: string;
  readonly cn?: string;
  readonly dns?: readonly string[];
}

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  /** The CA certificate (PEM file). */
  readonly ca: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clients: Readonly<Record<string, KeyPair>>;
}

export interface PkiOptions {
  /** subjectAltName entries of the server certificate, e.g. ["IP:10.0.0.1", "DNS:vmmi.example"]. */
  readonly serverSans?: readonly string[];
  /** Subject CN of the server certificate; default "localhost". */
  readonly serverCn?: string;
}

const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = placeholder\n';

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args]);
  } catch (e) {
    const stderr = typeof e === 'object' && e !== null && 'stderr' in e ? String(e.stderr) : '';
    throw new Error(`openssl ${args.join(' ')} failed: ${e instanceof Error ? e.message : String(e)} ${stderr}`);
  }
}

function serial(): string {
  return `0x${randomBytes(8).toString('hex')}`;
}

async function keyAndCsr(dir: string, base: string, cn: string, reqConfig: string): Promise<{ key: string; csr: string }> {
  const key = join(dir, `${base}.key`);
  const csr = join(dir, `${base}.csr`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await openssl(['req', '-new', '-config', reqConfig, '-key', key, '-subj', `/CN=${cn}`, '-out', csr]);
  return { key, csr };
}

async function sign(dir: string, base: string, csr: string, ca: KeyPair, extensions: string): Promise<string> {
  const ext = join(dir, `${base}.ext`);
  const cert = join(dir, `${base}.crt`);
  await writeFile(ext, extensions);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial(), '-days', '2', '-sha256', '-extfile', ext, '-out', cert]);
  return cert;
}

/** Makes the CA, the server certificate and one client certificate per entry of `clients`. */
export async function makePki(dir: string, clients: readonly (string | ClientSpec)[], options: PkiOptions = {}): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const reqConfig = join(dir, 'req.cnf');
  await writeFile(reqConfig, REQ_CONFIG);

  const caReq = await keyAndCsr(dir, 'ca', 'vmmi test CA', reqConfig);
  const caExt = join(dir, 'ca.ext');
  const caCert = join(dir, 'ca.crt');
  await writeFile(caExt, 'basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n');
  await openssl(['x509', '-req', '-in', caReq.csr, '-signkey', caReq.key, '-set_serial', serial(), '-days', '2', '-sha256', '-extfile', caExt, '-out', caCert]);
  const ca: KeyPair = { cert: caCert, key: caReq.key };

  const sans = options.serverSans ?? ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'];
  const serverReq = await keyAndCsr(dir, 'server', options.serverCn ?? 'localhost', reqConfig);
  const serverCert = await sign(
    dir,
    'server',
    serverReq.csr,
    ca,
    `basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = ${sans.join(', ')}\n`,
  );

  const out: Record<string, KeyPair> = {};
  for (const c of clients) {
    const spec: ClientSpec = typeof c === 'string' ? { name: c } : c;
    const base = `client-${spec.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const req = await keyAndCsr(dir, base, spec.cn ?? spec.name, reqConfig);
    const dns = spec.dns ?? [spec.name];
    const san = dns.length > 0 ? `subjectAltName = ${dns.map((d) => `DNS:${d}`).join(', ')}\n` : '';
    const cert = await sign(dir, base, req.csr, ca, `basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n${san}`);
    out[spec.name] = { cert, key: req.key };
  }
  return { ca: caCert, caKey: ca.key, serverCert, serverKey: serverReq.key, clients: out };
}
