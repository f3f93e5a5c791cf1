/**
 * The built-in remote backends as the registry holds them: a small class per backend that checks its
 * arguments at once (with the backend's own options module, which loads no driver and little code),
 * checks that its driver packages are installed (resolving them, not loading them), and loads the
 * backend's module on first use. Importing the root entry point therefore costs no remote backend
 * module, while `configure()` still reports bad arguments and a missing driver synchronously.
 *
 * @module
 */
import type { BackendArguments, BackendClass, CacheBackend } from '../api.js';
import type { KeyMangler } from '../keys.js';
import { jsonSerializer, type Serializer } from '../serializers.js';
import { keepingOsloScope } from '../arguments.js';
import { assertDriversInstalled } from '../driver.js';
import { DeferredBackend } from './deferred.js';

/** What the registry knows about a built-in remote backend before loading it. */
export interface LazyBackendSpec {
  /** The class name shown in messages (`region.backend.constructor.name`). */
  readonly name: string;
  /** Checks the arguments as the backend's constructor would (throws its typed errors); no I/O. */
  readonly check: (args: BackendArguments) => void;
  /** The driver packages the backend loads; configure() fails with MissingDependencyError naming each one not installed. */
  readonly packages: readonly string[];
  /** Loads the backend's class (a dynamic import of its module). */
  readonly load: () => Promise<BackendClass>;
  /** The backend's own key mangler, which the region adopts at configure() time. */
  readonly keyMangler?: KeyMangler;
  /** True for a BytesBackend: the region then stores dogpile's bytes through `*Serialized`. */
  readonly bytes: boolean;
  /** Whether the backend, with these (checked) arguments, declares `clear`; default never. */
  readonly clears?: (args: BackendArguments) => boolean;
}

/** A class made by {@link lazyBackend}: its instances are DeferredBackends. */
export interface LazyBackendClass {
  new (args?: BackendArguments): DeferredBackend;
  fromConfigDict(config: Readonly<Record<string, unknown>>, prefix: string): CacheBackend;
}

/**
 * A backend class whose instances check `args` at once and forward to the real backend once its
 * module has loaded (see {@link DeferredBackend}: until then its mutex waits for the load, so the
 * backend's distributed lock is used from the first call). `await backend.ready()` gives the real one.
 */
export function lazyBackend(spec: LazyBackendSpec): LazyBackendClass {
  const Lazy = spec.bytes ? lazyBytes(spec) : lazyPlain(spec);
  Object.defineProperty(Lazy, 'name', { value: spec.name });
  return Lazy;
}

function lazyPlain(spec: LazyBackendSpec): LazyBackendClass {
  return class extends DeferredBackend {
    constructor(args: BackendArguments = {}) {
      spec.check(args);
      assertDriversInstalled(spec.packages, spec.name);
      super(keepingOsloScope(spec.load()), args, { clears: spec.clears?.(args) ?? false });
      if (spec.keyMangler !== undefined) this.keyMangler = spec.keyMangler;
    }
  };
}

function lazyBytes(spec: LazyBackendSpec): LazyBackendClass {
  return class extends DeferredBackend {
    // BytesBackend's default, which every built-in bytes backend keeps.
    override serializer: Serializer = jsonSerializer;

    constructor(args: BackendArguments = {}) {
      spec.check(args);
      assertDriversInstalled(spec.packages, spec.name);
      super(keepingOsloScope(spec.load()), args, { clears: spec.clears?.(args) ?? false });
      if (spec.keyMangler !== undefined) this.keyMangler = spec.keyMangler;
    }
    // The *Serialized calls are forwarded by DeferredBackend itself.
  };
}

/** The `*Serialized` half of a BytesBackend (typed structurally: importing BytesBackend's module is free, but its class is not needed). */
