// MongoBackend's ssl_* and use_replica/replicaset_name arguments against FerretDBs of our own: one with a
// TLS listener that requires client certificates signed by a throw-away CA, one reporting a replica set
// name. Skipped (with the reason) where no ferretdb binary or openssl is available.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { isNoValue, makeCachedValue } from '../../../src/api.js';
import { BackendUnavailableError, ConfigurationError } from '../../../src/errors.js';
import { MongoBackend } from '../../../src/backends/mongo/index.js';
import {
  makeCertificates,
  privateFerretDbUnavailable,
  startPrivateFerretDb,
  type PrivateFerretDb,
  type TestCertificates,
} from '../../support/mongo.js';

const unavailable = privateFerretDbUnavailable(true);

/** Sets then gets one entry; resolves to the payload read back. */
async function roundTrip(args: Record<string, unknown>): Promise<unknown> {
  const backend = new MongoBackend({
    db_name: 'tls_test',
    cache_collection: 'c',
    server_selection_timeout: 1,
    connect_timeout: 1,
    ...args,
  });
  try {
    await backend.set('k', makeCachedValue('secure'));
    const got = await backend.get('k');
    return isNoValue(got) ? got : got.payload;
  } finally {
    await backend.close();
  }
}

describe('MongoBackend TLS and replica set arguments', () => {
  // Never skipped: without the tools this suite fails and says how to provide them.
  it('has what it needs: a ferretdb binary and openssl', () => {
    assert.equal(
      unavailable,
      null,
      `${unavailable ?? ''} (scripts/services.mjs builds ferretdb; openssl comes from Debian's openssl package)`,
    );
  });

  let certs: TestCertificates;
  let tlsServer: PrivateFerretDb;
  let replServer: PrivateFerretDb;
  let tlsHost: string;

  before(async () => {
    certs = makeCertificates();
    [tlsServer, replServer] = await Promise.all([
      startPrivateFerretDb({ certificates: certs }),
      startPrivateFerretDb({ replSetName: 'rs0' }),
    ]);
    tlsHost = tlsServer.tlsAddress as string;
  });

  after(async () => {
    await Promise.all([tlsServer?.stop(), replServer?.stop()]);
    if (certs !== undefined) fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  it('ssl with ssl_ca_certs, ssl_certfile and ssl_keyfile connects and verifies the server', async () => {
    assert.equal(
      await roundTrip({
        db_hosts: tlsHost,
        ssl: true,
        ssl_ca_certs: certs.ca,
        ssl_certfile: certs.clientCert,
        ssl_keyfile: certs.clientKey,
      }),
      'secure',
    );
  });

  it('ssl_certfile alone may hold both the certificate and its key (oslo)', async () => {
    assert.equal(
      await roundTrip({
        db_hosts: tlsHost,
        ssl: 'true',
        ssl_ca_certs: certs.ca,
        ssl_certfile: certs.clientCombined,
        ssl_cert_reqs: 'OPTIONAL',
      }),
      'secure',
    );
  });

  it('ssl_cert_reqs NONE skips verification of the server certificate', async () => {
    assert.equal(await roundTrip({ db_hosts: tlsHost, ssl: true, ssl_cert_reqs: 'NONE', ssl_certfile: certs.clientCombined }), 'secure');
  });

  it('REQUIRED (the default) refuses a server certificate from another CA: BackendUnavailableError with the TLS cause', async () => {
    for (const reqs of [undefined, 'REQUIRED', 'OPTIONAL']) {
      await assert.rejects(
        roundTrip({
          db_hosts: tlsHost,
          ssl: true,
          ssl_ca_certs: certs.otherCa,
          ssl_certfile: certs.clientCombined,
          ...(reqs === undefined ? {} : { ssl_cert_reqs: reqs }),
        }),
        (e: unknown) => e instanceof BackendUnavailableError && /certificate/i.test(e.message),
      );
    }
  });

  it('without a client certificate, or without ssl, the TLS server is unavailable', async () => {
    await assert.rejects(roundTrip({ db_hosts: tlsHost, ssl: true, ssl_ca_certs: certs.ca }), BackendUnavailableError);
    await assert.rejects(roundTrip({ db_hosts: tlsHost }), BackendUnavailableError);
  });

  it('an unreadable certificate file is a ConfigurationError at the first call (not in the constructor)', async () => {
    const backend = new MongoBackend({
      db_hosts: tlsHost,
      db_name: 'tls_test',
      cache_collection: 'c',
      ssl: true,
      ssl_ca_certs: `${certs.dir}/missing.pem`,
    });
    await assert.rejects(backend.get('k'), (e: unknown) => e instanceof ConfigurationError && e.message.includes('ssl_ca_certs'));
    await backend.close();
  });

  it('use_replica with the right replicaset_name connects; a wrong name is unavailable', async () => {
    assert.equal(await roundTrip({ db_hosts: replServer.address, use_replica: true, replicaset_name: 'rs0' }), 'secure');
    await assert.rejects(roundTrip({ db_hosts: replServer.address, use_replica: true, replicaset_name: 'other' }), BackendUnavailableError);
  });
});
