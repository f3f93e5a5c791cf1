/**
 * No TLS ServerName (SNI) for an endpoint given as an IP address, so that Node prints no DEP0123.
 *
 * With `https://127.0.0.1:2379`, @grpc/grpc-js passes the IP as `servername` to `tls.connect`, and Node
 * warns once per process on stderr: "Setting the TLS ServerName to an IP address is not permitted by
 * RFC 6066" (DEP0123). grpc-js's only knob, the `grpc.ssl_target_name_override` channel option, replaces
 * the name that the certificate is checked against as well, for every endpoint of the channel options
 * (the etcd3 client shares one set among its hosts), so using it would mean verifying every member's
 * certificate against one fixed name instead of its own IP address: weaker.
 *
 * What is done instead: for an IP endpoint the `servername` is left out of the TLS options, which is what
 * RFC 6066 asks (no SNI for IP literals) and what Node's own `https` agent does. Verification is
 * unchanged: without a servername Node checks the certificate against `host`, which grpc-js sets to
 * the same IP address, with the same `tls.checkServerIdentity` (the IP must be in the certificate's IP
 * SANs; a certificate for another IP is rejected, as tested). Host names keep their SNI.
 *
 * The hook is on the etcd3 client's channel credentials (`client.pool.hosts[].channelCredentials`, and
 * the authenticator's), which are internals of etcd3 1.1 and @grpc/grpc-js 1.x. Their shape is checked
 * first; when it differs nothing is changed (the only cost is the warning), and a debug line says so.
 *
 * @module
 */
import { isIP } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { debug } from '../../log.js';

interface TlsConnectionOptions {
  servername?: unknown;
  host?: unknown;
}

interface SecureConnector {
  connectionOptions?: TlsConnectionOptions;
}

interface ChannelCredentialsShape {
  _isSecure(): boolean;
  _createSecureConnector(target: unknown, options: unknown, callCredentials?: unknown): SecureConnector;
}

const PATCHED = Symbol.for('dogpile-cache.etcd3.noIpServername');

function isCredentials(value: unknown): value is ChannelCredentialsShape {
  if (typeof value !== 'object' || value === null) return false;
  const shape = value as Partial<Record<keyof ChannelCredentialsShape, unknown>>;
  return typeof shape._isSecure === 'function' && typeof shape._createSecureConnector === 'function';
}

/** Removes an IP `servername` from the TLS options grpc-js built, when `host` holds the same address. */
function omitIpServername(connector: SecureConnector): void {
  const tls = connector.connectionOptions;
  if (tls === undefined || typeof tls.servername !== 'string') return;
  if (isIP(tls.servername) === 0 || tls.host !== tls.servername) return;
  delete tls.servername;
}

/**
 * Makes the etcd3 `client`'s TLS connections to IP endpoints go without SNI (see the module comment).
 * Returns false, changing nothing, when the client's internals do not have the expected shape.
 */
export function skipServernameForIpEndpoints(client: Etcd3): boolean {
  const pool = (client as unknown as { pool?: { hosts?: unknown; authenticator?: { credentials?: unknown } } }).pool;
  const hosts = pool?.hosts;
  if (!Array.isArray(hosts) || hosts.length === 0) return unexpected('client.pool.hosts is not a list of hosts');
  const all = new Set<unknown>(hosts.map((host: unknown) => (host as { channelCredentials?: unknown } | null)?.channelCredentials));
  if (pool?.authenticator !== undefined) all.add(pool.authenticator.credentials);
  const credentials: ChannelCredentialsShape[] = [];
  for (const candidate of all) {
    if (!isCredentials(candidate)) return unexpected('a host has no grpc-js channel credentials');
    credentials.push(candidate);
  }
  for (const each of credentials) {
    const record = each as unknown as Record<symbol, unknown>;
    if (!each._isSecure() || record[PATCHED] === true) continue;
    const create = each._createSecureConnector;
    each._createSecureConnector = function (this: ChannelCredentialsShape, target, options, callCredentials) {
      const connector = create.call(this, target, options, callCredentials);
      if (typeof connector === 'object' && connector !== null) omitIpServername(connector);
      return connector;
    };
    record[PATCHED] = true;
  }
  return true;
}

function unexpected(what: string): false {
  debug('etcd3: %s (etcd3 or @grpc/grpc-js changed shape); TLS to an IP endpoint keeps its SNI, and Node prints DEP0123 once.', what);
  return false;
}
