"""The Python side of the differential suite (test/interop/differential/differential.test.ts).

Reads {"scenarios": [{"name", "steps": [...]}, ...]} on stdin, runs every scenario against Debian's
dogpile.cache 1.1.8 and oslo.cache 3.2 (the reference), and prints one JSON object
{scenario name: trace} on stdout. A trace is a list with one observation per step; the TypeScript
interpreter (interpreter.ts) produces the same list from the same steps, and the test compares them.
The step language is described in scenarios.ts.

Time is controlled: time.time is replaced by a clock that starts at BASE_TIME and moves forward by
one microsecond on every read (as a real clock does between two calls, so "invalidate() then get()"
sees a later instant, as in production), plus whatever an "advance" step adds. Scenarios therefore
never test an exact expiration boundary.

Runs with Debian's /usr/bin/python3 (python3-dogpile.cache, python3-oslo.cache, python3-oslo.config).
"""
import json
import os
import sys
import tempfile
import threading
import time

BASE_TIME = 1767225600.0  # 2026-01-01T00:00:00Z, the TypeScript manualClock's default start
TICK = 1e-6


class Clock:
    def __init__(self):
        self.now = BASE_TIME
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.now += TICK
            return self.now

    def advance(self, seconds):
        with self.lock:
            self.now += seconds


CLOCK = Clock()
time.time = CLOCK  # dogpile's region, lock and invalidation strategy read time.time()

from dogpile.cache import make_region  # noqa: E402  (after patching time)
from dogpile.cache.api import NO_VALUE  # noqa: E402
from dogpile.cache.proxy import ProxyBackend  # noqa: E402
from dogpile.cache import util as dogpile_util  # noqa: E402
from dogpile.util.langhelpers import coerce_string_conf  # noqa: E402

# Python exception class -> the TypeScript class the port throws for it.
ERROR_NAMES = {
    'RegionAlreadyConfigured': 'RegionAlreadyConfiguredError',
    'RegionNotConfigured': 'RegionNotConfiguredError',
    'ValidationError': 'ValidationError',
    'PluginNotFound': 'PluginNotFoundError',
    'ConfigurationError': 'ConfigurationError',
    'CreatorError': 'CreatorError',
    'RunnerError': 'RunnerError',
    # oslo.config: a malformed file, and a value of the wrong type or not among the choices.
    'ConfigFileParseError': 'ValidationError',
    'ConfigFileValueError': 'ConfigurationError',
}

# Backend class -> a name both sides agree on.
BACKEND_NAMES = {
    'MemoryBackend': 'memory',
    'MemoryPickleBackend': 'memory_pickle',
    'NullBackend': 'null',
    'DictCacheBackend': 'dict',
    'MemcachedBackend': 'memcached',
    'PylibmcBackend': 'memcached',
    'BMemcachedBackend': 'memcached',
    'PyMemcacheBackend': 'memcached',
    'PooledMemcachedBackend': 'memcached',
    'Etcd3gwCacheBackend': 'etcd3',
    'MongoCacheBackend': 'mongo',
    'Recorder': 'recorder',
}


class CreatorError(Exception):
    pass


class RunnerError(Exception):
    pass


def error_of(exc):
    name = type(exc).__name__
    return {'error': ERROR_NAMES.get(name, name)}


def encode(value):
    if value is NO_VALUE:
        return {'$no_value': True}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def type_tag(value):
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'str'
    return type(value).__name__


class Recorder(ProxyBackend):
    """Records every backend call (serialized variants under their plain names) with its keys."""

    def __init__(self, log, label=None):
        super().__init__()
        self.log = log
        self.label = label
        if label is not None:
            # A labelled recorder logs [label, operation, keys].
            plain = log
            self.log = type('LabelledLog', (), {'append': staticmethod(lambda entry: plain.append([label] + entry))})()

    def get(self, key):
        self.log.append(['get', [key]])
        return self.proxied.get(key)

    def get_serialized(self, key):
        self.log.append(['get', [key]])
        return self.proxied.get_serialized(key)

    def get_multi(self, keys):
        self.log.append(['get_multi', list(keys)])
        return self.proxied.get_multi(keys)

    def get_serialized_multi(self, keys):
        self.log.append(['get_multi', list(keys)])
        return self.proxied.get_serialized_multi(keys)

    def set(self, key, value):
        self.log.append(['set', [key]])
        return self.proxied.set(key, value)

    def set_serialized(self, key, value):
        self.log.append(['set', [key]])
        return self.proxied.set_serialized(key, value)

    def set_multi(self, mapping):
        self.log.append(['set_multi', sorted(mapping)])
        return self.proxied.set_multi(mapping)

    def set_serialized_multi(self, mapping):
        self.log.append(['set_multi', sorted(mapping)])
        return self.proxied.set_serialized_multi(mapping)

    def delete(self, key):
        self.log.append(['delete', [key]])
        return self.proxied.delete(key)

    def delete_multi(self, keys):
        self.log.append(['delete_multi', list(keys)])
        return self.proxied.delete_multi(keys)


def make_should_cache(spec):
    if spec is None:
        return None
    if spec == 'never':
        return lambda value: False
    if spec == 'always':
        return lambda value: True
    if 'equals' in spec:
        return lambda value: value == spec['equals']
    if 'not_equals' in spec:
        return lambda value: value != spec['not_equals']
    raise ValueError('unknown should_cache %r' % (spec,))


def make_mangler(spec):
    if spec is None:
        return None
    if spec == 'sha1':
        return dogpile_util.sha1_mangle_key
    if spec == 'upper':
        return lambda key: key.upper()
    if spec == 'prefixed':
        prefix = Scenario.key_prefix
        return lambda key: prefix + key
    if isinstance(spec, dict) and 'length_sha1' in spec:
        return dogpile_util.length_conditional_mangler(spec['length_sha1'], dogpile_util.sha1_mangle_key)
    raise ValueError('unknown mangler %r' % (spec,))


class Scenario:
    def __init__(self):
        self.region = None
        self.log = []
        self.calls = {}
        self.calls_lock = threading.Lock()
        self.functions = {}
        self.conf = None
        self.cache_dict = None
        self.vars = {}

    # ------------------------------------------------------------------ creators

    def record(self, name, args):
        with self.calls_lock:
            self.calls.setdefault(name, []).append(list(args))
            return len(self.calls[name])

    def creator(self, spec):
        """A get_or_create creator: records its call, optionally holds (real seconds), returns or raises."""
        name = spec['name']

        def create():
            n = self.record(name, [])
            if spec.get('hold'):
                time.sleep(spec['hold'])
            if spec.get('raises'):
                raise CreatorError(name)
            if spec.get('advance'):
                CLOCK.advance(spec['advance'])
            if spec.get('probe_locked'):
                return 'locked' if self.region.key_is_locked(spec['probe_locked']) else 'unlocked'
            if 'value' in spec:
                return json.loads(json.dumps(spec['value']))
            return '%s#%d' % (name, n)
        return create

    def multi_creator(self, spec):
        name = spec['name']

        def create(*keys):
            self.record(name, keys)
            if spec.get('hold'):
                time.sleep(spec['hold'])
            if spec.get('raises'):
                raise CreatorError(name)
            values = ['%s(%s)' % (name, key) for key in keys]
            return values[:-1] if spec.get('short') else values
        return create

    # ------------------------------------------------------------------ steps

    def run(self, steps):
        trace = []
        for step in steps:
            try:
                trace.append(self.step(step))
            except Exception as exc:  # every failure is an observation
                trace.append(error_of(exc))
        return trace

    def step(self, s):
        op = s['op']
        return getattr(self, 'op_' + op)(s)

    def op_make_region(self, s):
        kwargs = {}
        if s.get('key_mangler') is not None:
            kwargs['key_mangler'] = make_mangler(s['key_mangler'])
        if s.get('serializer') == 'json':
            kwargs['serializer'] = lambda value: json.dumps(value).encode('utf-8')
            kwargs['deserializer'] = lambda data: json.loads(data.decode('utf-8'))
        runner = s.get('async_runner')
        if runner == 'inline':
            def run_inline(region, key, creator, mutex):
                try:
                    region.set(key, creator())
                finally:
                    mutex.release()
            kwargs['async_creation_runner'] = run_inline
        elif runner == 'raising':
            def run_raising(region, key, creator, mutex):
                raise RunnerError('runner')
            kwargs['async_creation_runner'] = run_raising
        self.region = make_region(**kwargs)
        return 'ok'

    def backend_arguments(self, s):
        arguments = dict(s.get('arguments') or {})
        if arguments.get('url') == '$MEMCACHED':
            arguments['url'] = list(self.memcached)
        if s.get('cache_dict'):
            self.cache_dict = {}
            arguments['cache_dict'] = self.cache_dict
        return arguments

    def op_configure(self, s):
        if self.region is None:
            self.op_make_region({})
        kwargs = {'arguments': self.backend_arguments(s)}
        if 'expiration_time' in s:
            kwargs['expiration_time'] = s['expiration_time']
        if s.get('replace_existing_backend') is not None:
            kwargs['replace_existing_backend'] = s['replace_existing_backend']
        if s.get('record'):
            kwargs['wrap'] = [Recorder(self.log)]
        if s.get('wrap'):
            kwargs['wrap'] = [Recorder(self.log, label) for label in s['wrap']]
        self.region.configure(s['backend'], **kwargs)
        return 'ok'

    def op_configure_from_config(self, s):
        if self.region is None:
            self.op_make_region({})
        self.region.configure_from_config(dict(s['config']), s['prefix'])
        return 'ok'

    def op_info(self, s):
        r = self.region
        info = {'is_configured': r.is_configured}
        if r.is_configured:
            info['expiration_time'] = r.expiration_time
            name = type(r.actual_backend).__name__
            info['backend'] = BACKEND_NAMES.get(name, name)
            info['mangled'] = r.key_mangler is not None
        return info

    def op_coerce(self, s):
        coerced = coerce_string_conf(dict(s['config']))
        return {k: [type_tag(v), v] for k, v in sorted(coerced.items())}

    def op_advance(self, s):
        CLOCK.advance(s['seconds'])
        return None

    def op_set(self, s):
        self.region.set(s['key'], s['value'])
        return None

    def read_options(self, s):
        kwargs = {}
        if 'expiration_time' in s:
            kwargs['expiration_time'] = s['expiration_time']
        if s.get('ignore_expiration'):
            kwargs['ignore_expiration'] = True
        return kwargs

    def op_get(self, s):
        return encode(self.region.get(s['key'], **self.read_options(s)))

    def op_get_mutate(self, s):
        """Reads a dict value and changes it in place: does the cache see the change?"""
        value = self.region.get(s['key'])
        value['mutated'] = True
        return None

    def op_get_multi(self, s):
        return encode(self.region.get_multi(s['keys'], **self.read_options(s)))

    def op_set_multi(self, s):
        self.region.set_multi(dict(s['mapping']))
        return None

    def op_delete(self, s):
        self.region.delete(s['key'])
        return None

    def op_delete_multi(self, s):
        self.region.delete_multi(s['keys'])
        return None

    def create_options(self, s):
        kwargs = {}
        if 'expiration_time' in s:
            kwargs['expiration_time'] = s['expiration_time']
        if s.get('should_cache') is not None:
            kwargs['should_cache_fn'] = make_should_cache(s['should_cache'])
        return kwargs

    def op_get_or_create(self, s):
        return encode(self.region.get_or_create(s['key'], self.creator(s['creator']), **self.create_options(s)))

    def op_get_or_create_multi(self, s):
        return encode(self.region.get_or_create_multi(s['keys'], self.multi_creator(s['creator']), **self.create_options(s)))

    def op_wrap(self, s):
        self.region.wrap(Recorder(self.log, s['label']))
        return None

    def op_invalidate(self, s):
        self.region.invalidate(s.get('hard', True))
        return None

    def op_key_is_locked(self, s):
        return self.region.key_is_locked(s['key'])

    def op_calls(self, s):
        with self.calls_lock:
            return {name: len(args) for name, args in sorted(self.calls.items())}

    def op_call_args(self, s):
        with self.calls_lock:
            return {name: args for name, args in sorted(self.calls.items())}

    def op_backend_log(self, s):
        log = list(self.log)
        del self.log[:]
        return log

    def op_cache_dict_keys(self, s):
        return sorted(self.cache_dict or {})

    # ------------------------------------------------------------------ memoization

    def function_body(self, name, multi, omit):
        def single(*args):
            n = self.record(name, args)
            return '%s(%s)#%d' % (name, ','.join(str(a) for a in args), n)

        def many(*args):
            n = self.record(name, args)
            return ['%s(%s)#%d' % (name, a, n) for a in args]

        def as_dict(*args):
            n = self.record(name, args)
            return {a: '%s(%s)#%d' % (name, a, n) for a in args if a not in omit}
        if not multi:
            return single
        return as_dict if multi == 'asdict' else many

    def op_decorate(self, s):
        name = s['name']
        kwargs = {}
        if 'namespace' in s:
            kwargs['namespace'] = s['namespace']
        exp = s.get('expiration_time')
        if isinstance(exp, dict) and 'from_var' in exp:
            var = exp['from_var']
            kwargs['expiration_time'] = lambda: self.vars.get(var)
        elif exp is not None:
            kwargs['expiration_time'] = exp
        if s.get('should_cache') is not None:
            kwargs['should_cache_fn'] = make_should_cache(s['should_cache'])
        multi = s.get('multi')
        body = self.function_body(name, multi, s.get('omit', []))
        body.__name__ = name
        if multi:
            if multi == 'asdict':
                kwargs['asdict'] = True
            self.functions[name] = self.region.cache_multi_on_arguments(**kwargs)(body)
        else:
            self.functions[name] = self.region.cache_on_arguments(**kwargs)(body)
        return 'ok'

    def op_set_var(self, s):
        self.vars[s['var']] = s['value']
        return None

    def op_call(self, s):
        return encode(self.functions[s['fn']](*s['args']))

    def op_fn_get(self, s):
        return encode(self.functions[s['fn']].get(*s['args']))

    def op_fn_set(self, s):
        fn = self.functions[s['fn']]
        if 'mapping' in s:
            fn.set(dict(s['mapping']))
        else:
            fn.set(s['value'], *s['args'])
        return None

    def op_fn_invalidate(self, s):
        self.functions[s['fn']].invalidate(*s['args'])
        return None

    def op_fn_refresh(self, s):
        return encode(self.functions[s['fn']].refresh(*s['args']))

    def op_fn_original(self, s):
        return encode(self.functions[s['fn']].original(*s['args']))

    def op_key_of(self, s):
        """The key the default generator makes (a documented deliberate difference)."""
        def fn(*args):
            return None
        fn.__name__ = s['name']
        return dogpile_util.function_key_generator(s.get('namespace'), fn)(*s['args'])

    # ------------------------------------------------------------------ oslo

    def oslo_conf(self, s, config_file=None):
        from oslo_cache import core as cache
        from oslo_config import cfg
        conf = cfg.ConfigOpts()
        cache.configure(conf)
        if 'backend_expiration_time' in (s.get('cache') or {}):
            # Debian's oslo.cache 3.2 predates this option (oslo 3.9). It is registered so that a
            # scenario can set it; 3.2 ignores it, as HEAD does when the cache is disabled.
            conf.register_opt(cfg.IntOpt('backend_expiration_time'), group='cache')
        for group, options in (s.get('groups') or {}).items():
            conf.register_opts([cfg.BoolOpt('caching', default=True), cfg.IntOpt('cache_time')], group=group)
        args = ['--config-file', config_file] if config_file else []
        conf(args, project='dogpile-cache-differential', default_config_files=[], default_config_dirs=[])
        for name, value in (s.get('cache') or {}).items():
            conf.set_override(name, value, group='cache')
        for group, options in (s.get('groups') or {}).items():
            for name, value in options.items():
                conf.set_override(name, value, group=group)
        return conf

    def oslo_region(self, s):
        from oslo_cache import core as cache
        self.region = cache.create_region()
        cache.configure_cache_region(self.conf, self.region)
        if s.get('record'):
            self.region.wrap(Recorder(self.log))
        return 'ok'

    def op_oslo_configure(self, s):
        self.conf = self.oslo_conf(s)
        return self.oslo_region(s)

    def op_oslo_ini(self, s):
        with tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False) as f:
            f.write(s['text'])
        try:
            self.conf = self.oslo_conf(s, f.name)
        finally:
            os.unlink(f.name)
        return self.oslo_region(s)

    def op_oslo_reconfigure(self, s):
        from oslo_cache import core as cache
        cache.configure_cache_region(self.conf, self.region)
        return 'ok'

    def op_oslo_option(self, s):
        value = getattr(getattr(self.conf, s['group']), s['option'])
        return list(value) if isinstance(value, list) else value

    def op_oslo_set(self, s):
        self.conf.set_override(s['option'], s['value'], group=s['group'])
        return None

    def op_oslo_memoize(self, s):
        from oslo_cache import core as cache
        name = s['name']
        body = self.function_body(name, False, [])
        body.__name__ = name
        memoize = cache.get_memoization_decorator(self.conf, self.region, s['group'], s.get('expiration_group'))
        self.functions[name] = memoize(body)
        return 'ok'

    def op_oslo_mangle(self, s):
        return self.region.key_mangler(s['key'])

    # ------------------------------------------------------------------ concurrency

    def op_concurrent(self, s):
        """Callers in threads released together by a barrier (each after its own real-time delay);
        returns only order-independent observations: sorted results and the distinct object count."""
        callers = s['callers']
        barrier = threading.Barrier(len(callers))
        results = [None] * len(callers)

        def run(i, step):
            barrier.wait()
            if step.get('delay'):
                time.sleep(step['delay'])
            try:
                if step['op'] == 'get_or_create':
                    results[i] = ('ok', self.region.get_or_create(step['key'], self.creator(step['creator']), **self.create_options(step)))
                elif step['op'] == 'get_or_create_multi':
                    results[i] = ('ok', self.region.get_or_create_multi(step['keys'], self.multi_creator(step['creator']), **self.create_options(step)))
                elif step['op'] == 'get':
                    results[i] = ('ok', self.region.get(step['key']))
                elif step['op'] == 'key_is_locked':
                    results[i] = ('ok', self.region.key_is_locked(step['key']))
                else:
                    raise ValueError(step['op'])
            except Exception as exc:
                results[i] = ('error', exc)

        threads = [threading.Thread(target=run, args=(i, step)) for i, step in enumerate(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        observed = []
        for kind, value in results:
            observed.append(error_of(value) if kind == 'error' else {'value': encode(value)})
        out = {'results': sorted(observed, key=lambda o: json.dumps(o, sort_keys=True))}
        if s.get('identity'):
            objects = [value for kind, value in results if kind == 'ok']
            out['distinct_objects'] = len({id(o) for o in objects})
        return out


def main():
    request = json.load(sys.stdin)
    Scenario.memcached = request.get('memcached') or []
    out = {}
    for number, scenario in enumerate(request['scenarios']):
        CLOCK.now = BASE_TIME
        # Keys of scenarios on a shared server: unique to this run, this scenario and this side.
        Scenario.key_prefix = '%s-%d-py-' % (request.get('run', 'run'), number)
        out[scenario['name']] = Scenario().run(scenario['steps'])
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
