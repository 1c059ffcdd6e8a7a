import { createRequire } from "node:module";
import { isMainThread } from "node:worker_threads";
import type * as pkcs11js from "pkcs11js";

/** The pkcs11js binding (N-API), loaded only when a PKCS#11 signer is configured. */
export type Pkcs11Binding = typeof pkcs11js;
export type Pkcs11 = InstanceType<Pkcs11Binding["PKCS11"]>;

let binding: Pkcs11Binding | undefined;

/** The pkcs11js binding; throws when it is not installed or not built for this Node. */
export function pkcs11Binding(): Pkcs11Binding {
  binding ??= createRequire(import.meta.url)("pkcs11js") as Pkcs11Binding;
  return binding;
}

/**
 * One PKCS#11 library loaded into this thread, shared by every signer that names the same path:
 * C_Initialize and C_Finalize act on the whole library, so two signers must not each own one.
 */
export interface Pkcs11Module {
  readonly path: string;
  readonly api: Pkcs11;
  /** Increases each time the library is re-initialised; sessions and handles from an older generation are gone. */
  readonly generation: number;
  /** Signatures running on the thread pool; the library is never re-initialised under them. */
  inFlight: number;
  /**
   * C_Initialize, which is a no-op (CKR_CRYPTOKI_ALREADY_INITIALIZED) unless another thread
   * finalised the library or a re-initialisation failed half way. Throws the library's error.
   */
  ensureInitialized(): void;
  /**
   * C_Finalize + C_Initialize, which makes the library scan its slots again: how SoftHSM (and
   * many HSM clients) notice a token that came back. Does nothing and returns false when another
   * signer already did it since `seenGeneration`, when signatures are in flight, or in a serving
   * thread other than the main one (a finalise there would pull the library out from under the
   * other threads' operations; they pick up the main thread's re-initialisation instead).
   */
  reinitialize(seenGeneration: number): boolean;
}

const loaded = new Map<string, Pkcs11Module>();

/**
 * Loads (dlopen) and initialises the PKCS#11 library at `path` once per thread, with OS locking
 * (signatures run on libuv's thread pool, concurrently). A library another thread of this process
 * has initialised already (CKR_CRYPTOKI_ALREADY_INITIALIZED) is used as it is. Throws the loader's
 * or the library's error.
 */
export function loadPkcs11Module(path: string): Pkcs11Module {
  const existing = loaded.get(path);
  if (existing !== undefined) {
    existing.ensureInitialized();
    return existing;
  }
  const pkcs11 = pkcs11Binding();
  const api = new pkcs11.PKCS11();
  api.load(path);
  const initialize = () => {
    try {
      api.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (!(error instanceof pkcs11.Pkcs11Error && error.code === pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) throw error;
    }
  };
  initialize();
  const module: Pkcs11Module = {
    path,
    api,
    generation: 0,
    inFlight: 0,
    ensureInitialized: initialize,
    reinitialize: (seenGeneration) => {
      if (module.generation !== seenGeneration || module.inFlight > 0 || !isMainThread) return false;
      try {
        api.C_Finalize();
      } catch {
        // Already finalised (CKR_CRYPTOKI_NOT_INITIALIZED) or the library is in a bad state: initialising again is the way out either way.
      }
      (module as { generation: number }).generation++;
      initialize();
      return true;
    },
  };
  loaded.set(path, module);
  return module;
}
