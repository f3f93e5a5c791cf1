/**
 * memcached over TLS (issue 20.4): oslo's tls_enabled, tls_cafile, tls_certfile, tls_keyfile and
 * tls_allowed_ciphers against private memcached servers started with TLS (`memcached -Z`, Debian's
 * build has it), one of them requiring a client certificate. Never the shared servers.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { BackendUnavailableError, CacheRegion, ConfigurationError } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { PooledMemcachedBackend } from '../../../src/backends/memcached/index.js';
import { makeTestCertificates, type TestCertificates } from '../../support/certificates.js';
import { freePort } from '../../support/net.js';

const MEMCACHED = process.env.MEMCACHED_BIN ?? 'memcached';

async function startTlsMemcached(options: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64', '-Z', '-o', options];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = spawn(MEMCACHED, args, { stdio: 'ignore' });
  // Ready once the port accepts connections (generous bound: the machine is shared).
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return { child, url: `127.0.0.1:${port}` };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`memcached -Z on port ${port} did not start`);
}

describe('memcached over TLS', () => {
  let certs: TestCertificates;
  let plainTls: { child: ChildProcess; url: string };
  let mutualTls: { child: ChildProcess; url: string };
  const backends: PooledMemcachedBackend[] = [];
  const make = (args: Record<string, unknown>): PooledMemcachedBackend => {
    // A short socket_timeout bounds a failed handshake; the bound is not asserted (shared machine).
    const backend = new PooledMemcachedBackend({ socket_timeout: 5, dead_retry: 0, ...args });
    backends.push(backend);
    return backend;
  };

  before(async () => {
    certs = makeTestCertificates();
    plainTls = await startTlsMemcached(`ssl_chain_cert=${certs.serverCert},ssl_key=${certs.serverKey}`);
    // ssl_verify_mode=3: the client must present a certificate signed by ssl_ca_cert.
    mutualTls = await startTlsMemcached(
      `ssl_chain_cert=${certs.serverCert},ssl_key=${certs.serverKey},ssl_verify_mode=3,ssl_ca_cert=${certs.ca}`,
    );
  });
  after(async () => {
    await Promise.all(backends.map((backend) => backend.close()));
    plainTls?.child.kill('SIGKILL');
    mutualTls?.child.kill('SIGKILL');
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  it('stores and reads through a region with tls_enabled and tls_cafile (the server speaks only TLS)', async () => {
    const region = new CacheRegion().configure(make({ url: plainTls.url, tls_enabled: true, tls_cafile: certs.ca }));
    await region.set('tls-key', { n: 1 });
    assert.deepEqual(await region.get('tls-key'), { n: 1 });
    let calls = 0;
    assert.equal(await region.getOrCreate('tls-created', () => ++calls), 1);
    assert.equal(await region.getOrCreate('tls-created', () => ++calls), 1);
  });

  it('without TLS the same server is unavailable: the success above went over TLS', async () => {
    await assert.rejects(make({ url: plainTls.url }).get('tls-key'), BackendUnavailableError);
  });

  it('a server certificate from an untrusted CA fails the call with BackendUnavailableError (the TLS error as cause)', async () => {
    await assert.rejects(make({ url: plainTls.url, tls_enabled: true, tls_cafile: certs.otherCa }).get('tls-key'), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError, String(error));
      assert.match(String((error as Error & { cause?: unknown }).cause), /certificate/i);
      return true;
    });
  });

  it('presents tls_certfile / tls_keyfile to a server that requires a client certificate', async () => {
    const withCert = make({
      url: mutualTls.url,
      tls_enabled: true,
      tls_cafile: certs.ca,
      tls_certfile: certs.clientCert,
      tls_keyfile: certs.clientKey,
    });
    await withCert.set('mtls', makeCachedValue('yes'));
    assert.equal(((await withCert.get('mtls')) as { payload: unknown }).payload, 'yes');
    await assert.rejects(make({ url: mutualTls.url, tls_enabled: true, tls_cafile: certs.ca }).get('mtls'), BackendUnavailableError);
  });

  it('tls_allowed_ciphers is passed to OpenSSL: a usable list works, one it cannot use is a ConfigurationError at once', async () => {
    const ok = make({
      url: plainTls.url,
      tls_enabled: true,
      tls_cafile: certs.ca,
      tls_allowed_ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384',
    });
    await ok.set('ciphers', makeCachedValue(1));
    assert.throws(
      () => new PooledMemcachedBackend({ url: plainTls.url, tls_enabled: true, tls_allowed_ciphers: 'NO-SUCH-CIPHER' }),
      (e: Error) => e instanceof ConfigurationError && /tls_allowed_ciphers/.test(e.message),
    );
  });

  it('refuses tls_* files without tls_enabled, an unreadable file, a key without its certificate, and tls_context', () => {
    assert.throws(
      () => new PooledMemcachedBackend({ url: '127.0.0.1:1', tls_cafile: certs.ca }),
      (e: Error) => e instanceof ConfigurationError && /tls_cafile needs tls_enabled/.test(e.message),
    );
    assert.throws(
      () => new PooledMemcachedBackend({ url: '127.0.0.1:1', tls_enabled: true, tls_cafile: '/nonexistent/ca.pem' }),
      (e: Error) => e instanceof ConfigurationError && /tls_cafile: cannot read "\/nonexistent\/ca.pem" \(ENOENT\)/.test(e.message),
    );
    assert.throws(
      () => new PooledMemcachedBackend({ url: '127.0.0.1:1', tls_enabled: true, tls_keyfile: certs.clientKey }),
      /tls_keyfile needs tls_certfile/,
    );
    assert.throws(() => new PooledMemcachedBackend({ url: '127.0.0.1:1', tls_context: {} }), /tls_context/);
  });
});
