"""A Python service's dogpile.cache region on Redis, driven by test/interop/redis.test.ts.

Reads one JSON request on stdin:
    {"url": "redis://host:port/0", "distributed_lock": bool, "key_prefix": str (optional), "ops": [...]}
configures make_region().configure('dogpile.cache.redis', ...) with dogpile's byte format and a JSON
serializer (and, with "key_prefix", a key_mangler that puts it before every key, as a Python peer of a
Node backend with a namespace does) (b'{"ct": ..., "v": 2}|<json payload>'), runs the operations in order and prints one JSON
list with a result per operation on stdout.

Operations (a value is "value" (JSON) or "py" (a Python literal)):
    {"op": "set", "key": k, "value"|"py": v}
    {"op": "get", "key": k, "py": expected (optional)}
        -> {"found", "value", "repr", "metadata", "raw", "raw_matches", "same"}
    {"op": "get_or_create", "key": k, "value"|"py": v, "hold": seconds (optional)}
        -> {"value", "repr", "created"}; with "hold" the creator prints "CREATING" and sleeps
           that long while the dogpile lock (redis-py's Lock on "_lock" + key) is held.
    {"op": "hold_lock", "key": k, "hold": seconds}
        -> takes the backend's mutex for k, prints "LOCKED", sleeps, releases; {"token": ...}
    {"op": "try_lock", "key": k} -> {"acquired": bool} (acquire(False), released if taken)

Runs with Debian's /usr/bin/python3 and its python3-dogpile.cache (1.1.8) and python3-redis.
"""
import ast
import json
import sys
import time


def make_region(request):
    from dogpile.cache import make_region as dogpile_make_region

    prefix = request.get('key_prefix')
    region = dogpile_make_region(
        key_mangler=(lambda key: prefix + key) if prefix else None,
        serializer=lambda value: json.dumps(value).encode('utf-8'),
        deserializer=lambda data: json.loads(data.decode('utf-8')),
    )
    region.configure(
        'dogpile.cache.redis',
        expiration_time=600,
        arguments={
            'url': request['url'],
            'distributed_lock': bool(request.get('distributed_lock')),
            'thread_local_lock': False,
            'lock_timeout': 30,
        },
    )
    return region


def value_of(op):
    return ast.literal_eval(op['py']) if 'py' in op else op.get('value')


def run(region, op):
    from dogpile.cache.api import NO_VALUE

    key = op.get('key')
    # What the region sends to the backend (dogpile mangles the key before get_mutex and the backend).
    mangled = region.key_mangler(key) if region.key_mangler and key is not None else key
    kind = op['op']
    if kind == 'set':
        region.set(key, value_of(op))
        return {}
    if kind == 'get':
        value = region.get(key)
        if value is NO_VALUE:
            return {'found': False}
        cached = region._get_from_backend(mangled)
        raw = region.backend.reader_client.get(mangled)
        return {
            'found': True,
            'value': value,
            'repr': repr(value),
            'metadata': cached.metadata,
            'raw': raw.decode('latin-1'),
            'raw_matches': raw == region._serialized_cached_value(cached),
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
    if kind == 'hold_lock':
        mutex = region.backend.get_mutex(mangled)
        mutex.acquire()
        token = region.backend.writer_client.get('_lock' + mangled)
        sys.stdout.write('LOCKED\n')
        sys.stdout.flush()
        time.sleep(op['hold'])
        mutex.release()
        return {'token': token.decode('latin-1') if token else None}
    if kind == 'try_lock':
        mutex = region.backend.get_mutex(mangled)
        acquired = mutex.acquire(False)
        if acquired:
            mutex.release()
        return {'acquired': bool(acquired)}
    raise ValueError('unknown op %r' % kind)


def main():
    request = json.loads(sys.stdin.read())
    region = make_region(request)
    results = [run(region, op) for op in request['ops']]
    sys.stdout.write(json.dumps(results) + '\n')


if __name__ == '__main__':
    main()
