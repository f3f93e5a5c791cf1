"""A Python service writing or reading many keys over several memcached servers, driven by
test/interop/memcached-servers.test.ts.

Reads one JSON request on stdin:
    {"client": "memcache_pool" | "pymemcache", "servers": ["host:port", ...],
     "op": "set" | "get", "keys": [...], "values": [...] (set only)}
and prints one JSON list on stdout: for "get", each key's value (null when missing); for "set", [].

"memcache_pool": an OpenStack service's region (oslo.config + oslo_cache.core.configure_cache_region
with backend oslo_cache.memcache_pool, i.e. python-memcached, and oslo's sha1 key mangler).
"pymemcache": a dogpile region on dogpile.cache.pymemcache (pymemcache's HashClient) with
dogpile's sha1_mangle_key. Both use dogpile's byte format with a JSON serializer, as the Node side.

Runs with Debian's /usr/bin/python3 (python3-oslo.cache, python3-memcache, python3-pymemcache).
"""
import json
import sys

from dogpile.cache import make_region
from dogpile.cache.api import NO_VALUE
from dogpile.cache.util import sha1_mangle_key


def serializer(value):
    return json.dumps(value).encode('utf-8')


def deserializer(data):
    return json.loads(data.decode('utf-8'))


def oslo_region(servers):
    from oslo_cache import core as cache
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    cache.configure(conf)
    conf([], project='dogpile-cache-interop', default_config_files=[], default_config_dirs=[])
    conf.set_override('enabled', True, group='cache')
    conf.set_override('expiration_time', 600, group='cache')
    conf.set_override('backend', 'oslo_cache.memcache_pool', group='cache')
    conf.set_override('memcache_servers', servers, group='cache')
    region = make_region(function_key_generator=cache.function_key_generator, serializer=serializer, deserializer=deserializer)
    cache.configure_cache_region(conf, region)
    return region


def pymemcache_region(servers):
    return make_region(key_mangler=sha1_mangle_key, serializer=serializer, deserializer=deserializer).configure(
        'dogpile.cache.pymemcache', expiration_time=600, arguments={'url': servers}
    )


def main():
    request = json.load(sys.stdin)
    region = (oslo_region if request['client'] == 'memcache_pool' else pymemcache_region)(request['servers'])
    if request['op'] == 'set':
        region.set_multi(dict(zip(request['keys'], request['values'])))
        json.dump([], sys.stdout)
    else:
        values = region.get_multi(request['keys'])
        json.dump([None if value is NO_VALUE else value for value in values], sys.stdout)


main()
