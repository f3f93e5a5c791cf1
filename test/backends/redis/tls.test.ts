// RedisBackend over TLS against a private redis-server with a TLS port and client certificates
// required: rediss:// URLs, dogpile's ssl_ca_certs / ssl_certfile / ssl_keyfile / ssl_cert_reqs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { BackendUnavailableError, ConfigurationError, type CachedValue } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { makeTestCertificates, type TestCertificates } from '../../support/certificates.js';
import { freePort } from '../../support/net.js';
import { PrivateRedis } from '../../support/redis.js';

describe('RedisBackend over TLS (client certificates required)', () => {
  const redis = new PrivateRedis();
  let certs: TestCertificates;
  let tlsPort: number;
  before(async () => {
    certs = makeTestCertificates();
    tlsPort = await freePort();
    const server = await redis.server([
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      certs.serverCert,
      '--tls-key-file',
      certs.serverKey,
      '--tls-ca-cert-file',
      certs.ca,
      '--tls-auth-clients',
      'yes',
    ]);
    await server.start();
  });
  after(async () => {
    await redis.dispose();
    fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  const roundTrip = async (backend: RedisBackend): Promise<void> => {
    try {
      await backend.set('tls-key', makeCachedValue('over tls'));
      assert.equal(((await backend.get('tls-key')) as CachedValue).payload, 'over tls');
    } finally {
      await backend.close();
    }
  };

  it('rediss:// with ssl_ca_certs, ssl_certfile and ssl_keyfile', async () => {
    await roundTrip(
      new RedisBackend({
        url: `rediss://127.0.0.1:${tlsPort}/0`,
        ssl_ca_certs: certs.ca,
        ssl_certfile: certs.clientCert,
        ssl_keyfile: certs.clientKey,
      }),
    );
  });

  it('ssl: true with host/port (camelCase names)', async () => {
    await roundTrip(
      new RedisBackend({
        host: '127.0.0.1',
        port: tlsPort,
        ssl: true,
        sslCaCerts: certs.ca,
        sslCertfile: certs.clientCert,
        sslKeyfile: certs.clientKey,
      }),
    );
  });

  it('a CA that did not sign the server certificate: BackendUnavailableError; ssl_cert_reqs "none" skips the check', async () => {
    const wrongCa = new RedisBackend({
      url: `rediss://127.0.0.1:${tlsPort}`,
      ssl_ca_certs: certs.otherCa,
      ssl_certfile: certs.clientCert,
      ssl_keyfile: certs.clientKey,
      socket_timeout: 2,
    });
    try {
      await assert.rejects(wrongCa.get('tls-key'), BackendUnavailableError);
    } finally {
      await wrongCa.close();
    }
    await roundTrip(
      new RedisBackend({
        url: `rediss://127.0.0.1:${tlsPort}`,
        ssl_ca_certs: certs.otherCa,
        ssl_certfile: certs.clientCert,
        ssl_keyfile: certs.clientKey,
        ssl_cert_reqs: 'none',
      }),
    );
  });

  it('without the client certificate the server refuses: BackendUnavailableError', async () => {
    const noClientCert = new RedisBackend({ url: `rediss://127.0.0.1:${tlsPort}`, ssl_ca_certs: certs.ca, socket_timeout: 2 });
    try {
      await assert.rejects(noClientCert.get('tls-key'), BackendUnavailableError);
    } finally {
      await noClientCert.close();
    }
  });

  it('an unreadable ssl_ca_certs file: ConfigurationError naming the argument', async () => {
    const backend = new RedisBackend({ url: `rediss://127.0.0.1:${tlsPort}`, ssl_ca_certs: '/nonexistent/ca.pem' });
    try {
      await assert.rejects(
        backend.get('k'),
        (error: unknown) => error instanceof ConfigurationError && /ssl_ca_certs/.test((error as Error).message),
      );
    } finally {
      await backend.close();
    }
  });
});
