// Where the real servers for the test suites are. `npm test` starts them with scripts/services.mjs and sets
// these variables; set them yourself to point the suites at your own servers (see docs/testing.md).

const HOW_TO =
  'Run `npm test` (which starts the servers via scripts/services.mjs), ' +
  'or run `node scripts/services.mjs start` and export the variables from .services/env.json ' +
  '(eval "$(node scripts/services.mjs env)"), or point the variable at your own server.';

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set. ${HOW_TO}`);
  return value;
}

function list(name: string): string[] {
  return required(name)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/**
 * memcached servers as `host:port` strings, from MEMCACHED_SERVERS (comma-separated).
 * @throws Error if MEMCACHED_SERVERS is not set.
 */
export function memcachedServers(): string[] {
  return list('MEMCACHED_SERVERS');
}

/**
 * Client URLs (`http://host:port`) of the single-member etcd, from ETCD_ENDPOINTS (comma-separated).
 * @throws Error if ETCD_ENDPOINTS is not set.
 */
export function etcdEndpoints(): string[] {
  return list('ETCD_ENDPOINTS');
}

/**
 * Client URLs (`http://host:port`) of the three-member etcd cluster, from ETCD_CLUSTER_ENDPOINTS
 * (comma-separated). Fault tests stop and restart its members via scripts/services.mjs.
 * @throws Error if ETCD_CLUSTER_ENDPOINTS is not set.
 */
export function etcdClusterEndpoints(): string[] {
  return list('ETCD_CLUSTER_ENDPOINTS');
}

/**
 * MongoDB connection string (FerretDB by default, or a real mongod), from MONGODB_URL.
 * @throws Error if MONGODB_URL is not set.
 */
export function mongodbUrl(): string {
  return required('MONGODB_URL');
}
