/**
 * Throw-away PKI for TLS tests, generated at run time with the `openssl` CLI into a fresh temp
 * directory (no private key is ever committed). Everything is short-lived (2 days) and removed by
 * `cleanup()`.
 *
 * - `ca`: the CA the client is told to trust; it signs the server and client certificates.
 * - `otherCa`: an unrelated CA (the "wrong CA" a misconfigured client would trust).
 * - `server`: `CN=localhost`, SAN `DNS:localhost, IP:127.0.0.1`, serverAuth.
 * - `client`: `CN=memcluster-test-client`, clientAuth, for mutual TLS.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `OPENSSL_BIN` when set, else `openssl` on PATH. */
export function opensslBinary(): string {
  return process.env.OPENSSL_BIN || 'openssl';
}

/** A certificate (and its key) as both file paths and PEM text. */
export interface CertFiles {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  ca: CertFiles;
  otherCa: CertFiles;
  server: CertFiles;
  client: CertFiles;
  /** Hostnames/IPs the server certificate is valid for. */
  serverNames: readonly string[];
  /** Removes the directory and every key in it. */
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run(opensslBinary(), args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

async function load(dir: string, name: string): Promise<CertFiles> {
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  return { certPath, keyPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

async function selfSignedCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ], dir);
}

async function leaf(dir: string, name: string, cn: string, ext: string): Promise<void> {
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  await writeFile(path.join(dir, `${name}.ext`), ext);
  await openssl([
    'x509', '-req', '-sha256', '-days', '2', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key',
    '-set_serial', String(Date.now() + Math.floor(Math.random() * 1000)), '-out', `${name}.crt`, '-extfile', `${name}.ext`,
  ], dir);
}

/** Generates a CA, an unrelated CA, a server and a client certificate in a new temp directory. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'memcluster-pki-'));
  try {
    await Promise.all([selfSignedCa(dir, 'ca', 'memcluster test CA'), selfSignedCa(dir, 'other-ca', 'memcluster unrelated CA')]);
    await Promise.all([
      leaf(dir, 'server', 'localhost', [
        'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '',
      ].join('\n')),
      leaf(dir, 'client', 'memcluster-test-client', [
        'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', '',
      ].join('\n')),
    ]);
    const [ca, otherCa, server, client] = await Promise.all([load(dir, 'ca'), load(dir, 'other-ca'), load(dir, 'server'), load(dir, 'client')]);
    return {
      dir, ca, otherCa, server, client,
      serverNames: ['localhost', '127.0.0.1'],
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
