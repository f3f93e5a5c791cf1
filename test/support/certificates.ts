// Throwaway TLS material for the TLS tests (etcd3, Mongo), made with openssl.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** PEM files of a test CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA. */
export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The client certificate and key in one PEM file (the Mongo driver's `tlsCertificateKeyFile`). */
  clientCombined: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  otherCa: string;
}

/** Makes {@link TestCertificates} in a new temporary directory (remove `dir` when done). */
export function makeTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-tls-'));
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=dogpile-test-ca',
  );
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other-ca.key',
    '-out',
    'other-ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other-ca',
  );
  for (const [name, usage] of [
    ['server', 'serverAuth'],
    ['client', 'clientAuth'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name === 'server' ? '127.0.0.1' : 'dogpile-client'}`,
    );
    fs.writeFileSync(file(`${name}.ext`), `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  fs.writeFileSync(file('client-combined.pem'), fs.readFileSync(file('client.pem'), 'utf8') + fs.readFileSync(file('client.key'), 'utf8'));
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    clientCombined: file('client-combined.pem'),
    otherCa: file('other-ca.pem'),
  };
}

/**
 * A server certificate (and its key) signed by the test CA of `certs` for the IP address `ip` only, with
 * no DNS name: a server at another address presenting it must be refused (a wrong-IP check).
 */
export function makeServerCertificateFor(certs: TestCertificates, ip: string): { cert: string; key: string } {
  const name = `server-${ip.replace(/[^0-9a-f]/gi, '_')}`;
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: certs.dir, stdio: 'ignore' });
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${ip}`);
  fs.writeFileSync(path.join(certs.dir, `${name}.ext`), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  );
  return { cert: path.join(certs.dir, `${name}.pem`), key: path.join(certs.dir, `${name}.key`) };
}
