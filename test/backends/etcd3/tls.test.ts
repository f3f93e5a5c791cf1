/**
 * etcd over TLS to an IP address (`https://127.0.0.1:port`): no output on stderr (issue 15 item 9; grpc
 * used to set the IP as the TLS ServerName and Node printed DEP0123), and the certificate is still
 * verified against that IP (a certificate for another IP is refused).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Etcd3Backend } from '../../../src/backends/etcd3/index.js';
import { makeServerCertificateFor, makeTestCertificates, type TestCertificates } from '../../support/certificates.js';
import { startPrivateEtcd, type PrivateEtcd } from '../../support/etcd3.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The messages of `error` and its causes, one per line. */
function causes(error: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = error; e instanceof Error && lines.length < 10; e = e.cause) lines.push(`${e.name}: ${e.message}`);
  return lines.join('\n');
}

describe('Etcd3Backend over TLS to an IP address', () => {
  let certs: TestCertificates;
  let etcd: PrivateEtcd;
  before(async () => {
    certs = makeTestCertificates();
    etcd = await startPrivateEtcd({ tls: certs });
  });
  after(async () => {
    await etcd.dispose();
    fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  it('set, get, a lock and close print nothing on stderr (no DEP0123 for an IP as TLS ServerName)', () => {
    assert.match(etcd.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    const script = `
      const { Etcd3Backend } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'src/backends/etcd3/index.ts')).href)});
      const { makeCachedValue } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'src/backend.ts')).href)});
      const backend = new Etcd3Backend({
        endpoints: [${JSON.stringify(etcd.endpoint)}], namespace: 'tls-ip/', lease_ttl: 60, distributed_lock: true,
        ca_cert: ${JSON.stringify(certs.ca)}, cert_cert: ${JSON.stringify(certs.clientCert)}, cert_key: ${JSON.stringify(certs.clientKey)},
      });
      await backend.set('k', makeCachedValue('over tls'));
      const mutex = backend.getMutex('k');
      await mutex.acquire();
      await mutex.release();
      process.stdout.write(String((await backend.get('k')).payload));
      await backend.close();
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.stderr, '', 'nothing on stderr');
    assert.equal(result.stdout, 'over tls');
    assert.equal(result.status, 0);
  });

  it('a certificate for another IP address is still refused, with the altname mismatch as the error', async () => {
    const wrong = makeServerCertificateFor(certs, '127.0.0.2');
    const serve = async (cert: string, key: string): Promise<{ server: tls.Server; endpoint: string }> => {
      const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), ALPNProtocols: ['h2'] }, (socket) =>
        socket.destroy(),
      );
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, endpoint: `https://127.0.0.1:${(server.address() as { port: number }).port}` };
    };
    // The first request through the backend's own client (its TLS settings, SNI hook included) shows the
    // TLS error itself; later ones would find the endpoint's circuit open.
    const attempt = async (endpoint: string): Promise<string> => {
      const backend = new Etcd3Backend({
        endpoints: [endpoint],
        ca_cert: certs.ca,
        cert_cert: certs.clientCert,
        cert_key: certs.clientKey,
        timeout: 2,
      });
      try {
        const client = await backend.getClient();
        const error = await client.get('k').then(
          () => assert.fail('a server that is not etcd answered'),
          (e: unknown) => e,
        );
        return causes(error);
      } finally {
        await backend.close();
      }
    };
    const bad = await serve(wrong.cert, wrong.key);
    const good = await serve(certs.serverCert, certs.serverKey);
    try {
      assert.match(await attempt(bad.endpoint), /127\.0\.0\.1 is not in the cert's list|altnames/i, 'refused for the IP');
      // The control: the certificate for 127.0.0.1 from the same CA passes the TLS check (this server is not etcd, so the call still fails, for another reason).
      assert.doesNotMatch(await attempt(good.endpoint), /not in the cert's list|altnames|certificate/i);
    } finally {
      bad.server.close();
      good.server.close();
    }
  });
});
