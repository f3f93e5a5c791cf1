"""A Python service's dogpile.cache region on Redis, driven by test/interop/redis.test.ts.

Reads one JSON request on stdin:
    {"url": "redis://host:port/0", "distributed_lock": bool, "ops": [...]}
configures make_region().configure('dogpile.cache.redis', ...) with dogpile's byte format and a JSON
serializer (b'{"ct": ..., "v": 2}|<json payload>'), runs the operations in order and prints one JSON
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

    region = dogpile_make_region(
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
    kind = op['op']
    if kind == 'set':
        region.set(key, value_of(op))
        return {}
    if kind == 'get':
        value = region.get(key)
        if value is NO_VALUE:
            return {'found': False}
        cached = region._get_from_backend(key)
        raw = region.backend.reader_client.get(key)
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
        mutex = region.backend.get_mutex(key)
        mutex.acquire()
        token = region.backend.writer_client.get('_lock' + key)
        sys.stdout.write('LOCKED\n')
        sys.stdout.flush()
        time.sleep(op['hold'])
        mutex.release()
        return {'token': token.decode('latin-1') if token else None}
    if kind == 'try_lock':
        mutex = region.backend.get_mutex(key)
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
