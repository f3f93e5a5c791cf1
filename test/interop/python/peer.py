"""A Python service's cache region, driven by test/interop/*.test.ts.

Reads one JSON request on stdin:
    {"backend": "memcached" | "etcd", "server": "host:port", "ops": [...],
     "distributed_lock": bool (memcached only, optional)}
runs the operations in order with a region configured the way an OpenStack service does it
(oslo.config + oslo_cache.core.configure_cache_region, which installs oslo's sha1 key mangler),
and prints one JSON list with a result per operation on stdout.

Operations (a value is given as "value" (JSON) or "py" (a Python literal, for tuples and floats
such as 3.0 that JSON cannot tell apart from ints)):
    {"op": "set", "key": k, "value"|"py": v}
    {"op": "get", "key": k, "py": expected (optional)}
        -> {"found", "value", "repr", "metadata", "mangled", "raw", "raw_matches", "same"}
           same: repr(value) == repr(expected), so int/float/bool/str/list/dict all match.
           raw_matches: the stored bytes equal what this Python region would write for the same
           payload and metadata (memcached: dogpile's b"<json metadata>|<json payload>";
           etcd: oslo's jsonutils.dumps([payload, metadata])).
    {"op": "get_or_create", "key": k, "value"|"py": v, "hold": seconds (optional)}
        -> {"value", "repr", "created"}; with "hold", the creator prints "CREATING" on stdout
           and sleeps that long while the dogpile lock is held.
    {"op": "delete", "key": k}
    {"op": "mangle", "key": k} -> {"mangled"}

Runs with Debian's /usr/bin/python3 and its python3-dogpile.cache, python3-oslo.cache,
python3-memcache and python3-etcd3gw packages.
"""
import ast
import json
import os
import sys
import time


def etcd3gw_v3_api_path():
    """etcd3gw 2.0.0 talks to /v3alpha/, which etcd 3.4 no longer serves, and oslo's etcd3gw
    backend cannot pass api_path. Make etcd3gw.client() use ETCD3GW_API_PATH (default /v3/)."""
    import etcd3gw

    api_path = os.environ.get('ETCD3GW_API_PATH', '/v3/')
    original = etcd3gw.client

    def client(*args, **kwargs):
        instance = original(*args, **kwargs)
        instance.api_path = api_path
        return instance

    etcd3gw.client = client


def make_region(request):
    from dogpile.cache import make_region as dogpile_make_region
    from oslo_cache import core as cache
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    cache.configure(conf)
    conf([], project='dogpile-cache-interop', default_config_files=[], default_config_dirs=[])
    conf.set_override('enabled', True, group='cache')
    conf.set_override('expiration_time', 600, group='cache')
    if request['backend'] == 'memcached':
        conf.set_override('backend', 'oslo_cache.memcache_pool', group='cache')
        conf.set_override('memcache_servers', [request['server']], group='cache')
        args = []
        if request.get('distributed_lock'):
            args = ['distributed_lock:true', 'lock_timeout:30']
        conf.set_override('backend_argument', args, group='cache')
        # dogpile's byte format with a JSON serializer: b'{"ct": ..., "v": 2}|<json payload>'.
        region = dogpile_make_region(
            function_key_generator=cache.function_key_generator,
            serializer=lambda value: json.dumps(value).encode('utf-8'),
            deserializer=lambda data: json.loads(data.decode('utf-8')),
        )
    else:
        etcd3gw_v3_api_path()
        host, port = request['server'].rsplit(':', 1)
        conf.set_override('backend', 'oslo_cache.etcd3gw', group='cache')
        conf.set_override('backend_argument', ['host:' + host, 'port:' + port], group='cache')
        # oslo's etcd3gw backend stores JSON [payload, metadata] itself: no region serializer.
        region = cache.create_region()
    cache.configure_cache_region(conf, region)
    return region


def value_of(op):
    return ast.literal_eval(op['py']) if 'py' in op else op.get('value')


def raw_of(request, region, mangled):
    backend = region.backend
    if request['backend'] == 'memcached':
        raw = backend.client.get(mangled)
        return raw.decode('latin-1') if isinstance(raw, bytes) else raw
    values = backend._client.get(mangled)
    if not values:
        return None
    raw = values[0]
    return raw.decode('utf-8') if isinstance(raw, bytes) else raw


def rebuilt_of(request, region, cached):
    if request['backend'] == 'memcached':
        return region._serialized_cached_value(cached).decode('latin-1')
    from oslo_serialization import jsonutils
    return jsonutils.dumps([cached.payload, cached.metadata])


def run(request, region, op):
    from dogpile.cache.api import NO_VALUE

    key = op.get('key')
    kind = op['op']
    if kind == 'mangle':
        return {'mangled': region.key_mangler(key)}
    if kind == 'set':
        region.set(key, value_of(op))
        return {}
    if kind == 'delete':
        region.delete(key)
        return {}
    if kind == 'get':
        mangled = region.key_mangler(key)
        value = region.get(key)
        if value is NO_VALUE:
            return {'found': False, 'mangled': mangled}
        cached = region._get_from_backend(mangled)
        raw = raw_of(request, region, mangled)
        return {
            'found': True,
            'value': value,
            'repr': repr(value),
            'metadata': cached.metadata,
            'mangled': mangled,
            'raw': raw,
            'raw_matches': raw == rebuilt_of(request, region, cached),
            'same': repr(value) == repr(value_of(op)) if 'py' in op else None,
        }
    if kind == 'get_or_create':
        created = []

        def creator():
            created.append(True)
            if op.get('hold'):
                sys.stdout.write('CREATING\n')
                sys.stdout.flush()
                time.sleep(op['hold'])
            return value_of(op)

        value = region.get_or_create(key, creator)
        return {'value': value, 'repr': repr(value), 'created': bool(created)}
    raise ValueError('unknown op %r' % kind)


def main():
    request = json.loads(sys.stdin.read())
    region = make_region(request)
    results = [run(request, region, op) for op in request['ops']]
    sys.stdout.write(json.dumps(results) + '\n')


if __name__ == '__main__':
    main()
