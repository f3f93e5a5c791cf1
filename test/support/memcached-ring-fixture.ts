/**
 * Key placements recorded from libmemcached (Debian's libmemcached11, the library python3-pylibmc
 * binds), an implementation of ketama written independently of ours, so the ring tests compare
 * against someone else's reading of ketama rather than a second copy of our own.
 *
 * libmemcached was set up as pylibmc's `behaviors={"ketama_weighted": True}` does:
 * MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, which selects MD5 for both the continuum and the key hash.
 * With equal weights that is libketama's layout: 40 MD5 digests of `"<server>-<i>"` per server,
 * four little-endian 32-bit points per digest, a key's point is the first four bytes of its MD5.
 * One difference: libmemcached names a server on the default port 11211 `"host"`, not
 * `"host:11211"` (libketama and we always hash `"host:port"`), so for such servers the two place
 * keys differently unless the ring is given the bare host (see RING_SERVER_SETS.threeOnDefaultPort).
 *
 * test/backends/memcached/ring.test.ts runs LIBMEMCACHED_KETAMA_PY again and checks that these
 * recordings still match (it runs where scripts/services.mjs installed python3-pylibmc); to
 * re-record, run the program below with `{ servers, keys }` on stdin for each set.
 */

/**
 * Prints, as JSON, the server index libmemcached's `memcached_generate_hash` picks for each key,
 * reading `{"servers": ["host:port", ...], "keys": [...]}` from stdin. Uses ctypes on
 * libmemcached.so.11 directly: no server is contacted (server_add only records the address).
 */
export const LIBMEMCACHED_KETAMA_PY = `
import ctypes, json, sys
lib = ctypes.CDLL("libmemcached.so.11")
lib.memcached_create.restype = ctypes.c_void_p
lib.memcached_create.argtypes = [ctypes.c_void_p]
lib.memcached_server_add.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]
lib.memcached_behavior_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
lib.memcached_generate_hash.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
lib.memcached_generate_hash.restype = ctypes.c_uint32
lib.memcached_free.argtypes = [ctypes.c_void_p]
MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 16  # libmemcached-1.0/types/behavior.h
request = json.load(sys.stdin)
memc = lib.memcached_create(None)
assert lib.memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) == 0
for server in request["servers"]:
    host, port = server.rsplit(":", 1)
    assert lib.memcached_server_add(memc, host.encode(), int(port)) == 0
owners = [lib.memcached_generate_hash(memc, key.encode(), len(key.encode())) for key in request["keys"]]
lib.memcached_free(memc)
print(json.dumps(owners))
`;

/** Server lists, as `host:port` in the order given to libmemcached. */
export const RING_SERVER_SETS = {
  threeOn11212: ['10.0.0.1:11212', '10.0.0.2:11212', '10.0.0.3:11212'],
  fourLocal: ['127.0.0.1:21211', '127.0.0.1:21212', '127.0.0.1:21213', '127.0.0.1:21214'],
  threeOnDefaultPort: ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'],
} as const satisfies Record<string, readonly string[]>;

/** The keys placed: a plain series, then non-ASCII, a 250-byte key (memcached's maximum), one byte, and separators. */
export const RING_KEYS: readonly string[] = [
  ...Array.from({ length: 400 }, (_, i) => `key:${i}`),
  'fäké-ключ-🔑',
  'a'.repeat(250),
  'x',
  'user|42 7',
];

/** For each set, the index of the server libmemcached chose for each of RING_KEYS, one digit per key. */
export const LIBMEMCACHED_PLACEMENTS: Record<keyof typeof RING_SERVER_SETS, string> = {
  threeOn11212:
    '1111222101112221200110002112221201000111112102221000100200100202020110020122120221202002021000120201' +
    '2110022000011210110200001102120112221001012110021112011101121000010211211020021202002200120121212020' +
    '1020100120122100221111121011111211122202110100010100012221020020110120100110210102011112002120000121' +
    '2000210110111222122021022222021022200021100000111021110021120000221101101020102221012110021121000101' +
    '0022',
  fourLocal:
    '2031112101031030320300220103030112113123203322200001130121322100102103222100311233221101222200001110' +
    '0023330303011130112102020122301203131330320330020012332330302000230013310020020232132311101012321100' +
    '3210223020022122333333000232332010202322101212111201310121002303302201230013033022200232310032201110' +
    '0322330200122002320132201131033231213230320020210100103200331330303020213200300003203033220012030122' +
    '2202',
  threeOnDefaultPort:
    '1102100010111121200121002202001202002220100020212010222110101000220111111112220210220021010112200122' +
    '0002212111011100020201020120200112100011212211001011111102022000000000200010120201220101100012122020' +
    '2100020121121202000210001120011111100010220122020010101212110000122021200112220101221100111221000010' +
    '1000011020001020112020122022102122010202211101000122202111220021122022200100110122002221011101212021' +
    '2200',
};
