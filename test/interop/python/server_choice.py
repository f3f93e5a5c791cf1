"""Prints, as JSON, the server python-memcached and pymemcache pick for each key read from stdin.

Input: {"servers": [[name, weight], ...], "keys": [...], "dead": [index, ...]}. Nothing connects:
python-memcached's _Host.connect is replaced by "alive unless listed dead", and pymemcache's
HashClient creates its clients lazily; a dead server is removed from its hasher as HashClient does.
"""
import json
import sys

import memcache
from pymemcache.client.hash import HashClient

request = json.load(sys.stdin)
servers = request["servers"]
dead = set(request["dead"])

# python-memcached spells an IPv6 server "inet6:[::1]:11211"; the hashing never sees the name.
client = memcache.Client([("inet6:" + name if name.startswith("[") else name, weight) for name, weight in servers])
memcache._Host.connect = lambda host: 0 if client.servers.index(host) in dead else 1


def python_memcached(key):
    server, _ = client._get_server(key.encode("utf-8"))
    return -1 if server is None else client.servers.index(server)


names = [name for name, _ in servers]
hash_client = HashClient(names)
order = list(hash_client.clients)  # the hasher's node names, in the order given
for index in sorted(dead):
    hash_client.hasher.remove_node(order[index])


def pymemcache(key):
    node = hash_client.hasher.get_node(key)
    return -1 if node is None else order.index(node)


json.dump(
    {
        "python_memcached": [python_memcached(key) for key in request["keys"]],
        "pymemcache": [pymemcache(key) for key in request["keys"]] if all(w == 1 for _, w in servers) else None,
    },
    sys.stdout,
)
