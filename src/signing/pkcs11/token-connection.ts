import { PinUnavailableError, readPin, type PinSource } from "./pin-source.ts";
import { pkcs11Binding, type Pkcs11Module } from "./pkcs11-module.ts";
import type { TokenKeyType } from "./token-mechanisms.ts";

type Handle = Buffer;

/** Which private key on which token, and how to log in to it. */
export interface TokenKeyLocation {
  /** Token label (CK_TOKEN_INFO.label without its blank padding). */
  readonly token: string;
  /** Position in the list of slots with a token present; the token there must carry `token`. */
  readonly slot: number | undefined;
  readonly keyLabel: string | undefined;
  readonly keyId: Buffer | undefined;
  readonly pin: PinSource;
  /** The signer certificate's key type; the token key must be of the same type. */
  readonly keyType: TokenKeyType;
}

/** Why the key could not be reached, and which setting under `pkcs11` it concerns. */
export class TokenProblem extends Error {
  override readonly name = "TokenProblem";
  readonly field: "token" | "slot" | "pin" | "pin.file" | "pin.env" | "key";
  constructor(field: TokenProblem["field"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.field = field;
  }
}

/** A logged-in session pool on the token, and the key's handle. Handles die with the module generation. */
export interface TokenConnection {
  readonly generation: number;
  readonly key: Handle;
  readonly slot: Handle;
  /** Sessions not signing right now. */
  readonly idle: Handle[];
  /** Sessions open (idle and signing). */
  open: number;
  /** Set after a token error: no new signature starts here, and sessions close as they come back. */
  broken: boolean;
}

/**
 * Finds the token by label (SoftHSM renumbers slot IDs, so IDs are never configured), opens a
 * session, logs in with the PIN (read now, so a changed PIN file is picked up) and finds the private
 * key by label and/or CKA_ID. A PIN the token rejected before (`rejectedPin`) is not tried again,
 * because HSMs lock a token after a few wrong PINs. Throws TokenProblem naming the setting at fault,
 * or the library's Pkcs11Error.
 */
export async function connectToken(module: Pkcs11Module, location: TokenKeyLocation, rejectedPin: { value: string | undefined }): Promise<TokenConnection> {
  const pkcs11 = pkcs11Binding();
  const pin = await readPin(location.pin).catch((error: unknown) => {
    throw error instanceof PinUnavailableError ? new TokenProblem(`pin.${error.field}`, error.message, { cause: error }) : error;
  });
  if (pin === rejectedPin.value) throw new TokenProblem("pin", "the token rejected this PIN before; it is not tried again until the PIN source changes");
  module.ensureInitialized();
  const { api } = module;
  const generation = module.generation;
  const slot = findSlot(module, location);
  const session = api.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION);
  try {
    try {
      api.C_Login(session, pkcs11.CKU_USER, pin);
    } catch (error) {
      if (!(error instanceof pkcs11.Pkcs11Error)) throw error;
      // Login is per application and token: another signer of this process may have logged in already.
      if (error.code !== pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
        if (error.code === pkcs11.CKR_PIN_INCORRECT || error.code === pkcs11.CKR_PIN_LEN_RANGE) {
          rejectedPin.value = pin;
          throw new TokenProblem("pin", `token "${location.token}" rejected the PIN (${error.message})`, { cause: error });
        }
        throw new TokenProblem("pin", `cannot log in to token "${location.token}" (${error.message})`, { cause: error });
      }
    }
    rejectedPin.value = undefined;
    const key = findKey(module, session, location);
    return { generation, key, slot, idle: [session], open: 1, broken: false };
  } catch (error) {
    closeQuietly(module, session);
    throw error;
  }
}

/** Closes a session whose fate no longer matters (a token gone, a connection given up). */
export function closeQuietly(module: Pkcs11Module, session: Handle): void {
  try {
    module.api.C_CloseSession(session);
  } catch {
    // The session is gone already (CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED…): nothing left to release.
  }
}

/** The slot holding the token `location` names (by label, and position when given). Throws TokenProblem. */
export function findSlot(module: Pkcs11Module, location: Pick<TokenKeyLocation, "token" | "slot">): Handle {
  const slots = module.api.C_GetSlotList(true);
  const labels = slots.map((slot) => {
    try {
      return module.api.C_GetTokenInfo(slot).label.trimEnd();
    } catch {
      // A slot whose token went away answers CKR_GENERAL_ERROR (SoftHSM) or CKR_TOKEN_NOT_PRESENT.
      return undefined;
    }
  });
  const present = labels.filter((label) => label !== undefined).map((label) => `"${label}"`);
  if (location.slot !== undefined) {
    if (location.slot >= slots.length) throw new TokenProblem("slot", `there is no slot ${location.slot}: ${slots.length} slot(s) hold a token`);
    if (labels[location.slot] !== location.token) throw new TokenProblem("slot", `slot ${location.slot} holds token "${labels[location.slot] ?? "?"}", not "${location.token}"`);
    return slots[location.slot]!;
  }
  const matching = slots.filter((_, index) => labels[index] === location.token);
  if (matching.length === 0) throw new TokenProblem("token", `no token labelled "${location.token}" (tokens present: ${present.join(", ") || "none"})`);
  if (matching.length > 1) throw new TokenProblem("token", `${matching.length} tokens are labelled "${location.token}"; set slot to choose one`);
  return matching[0]!;
}

function findKey(module: Pkcs11Module, session: Handle, location: TokenKeyLocation): Handle {
  const pkcs11 = pkcs11Binding();
  const template: { type: number; value: number | string | Buffer }[] = [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }];
  if (location.keyLabel !== undefined) template.push({ type: pkcs11.CKA_LABEL, value: location.keyLabel });
  if (location.keyId !== undefined) template.push({ type: pkcs11.CKA_ID, value: location.keyId });
  const described = [location.keyLabel === undefined ? "" : `labelled "${location.keyLabel}"`, location.keyId === undefined ? "" : `with id ${location.keyId.toString("hex")}`]
    .filter((part) => part !== "")
    .join(" ");
  module.api.C_FindObjectsInit(session, template);
  let found: Handle[];
  try {
    found = module.api.C_FindObjects(session, 2);
  } finally {
    module.api.C_FindObjectsFinal(session);
  }
  if (found.length === 0) throw new TokenProblem("key", `no private key ${described} on token "${location.token}"`);
  if (found.length > 1) throw new TokenProblem("key", `several private keys ${described} on token "${location.token}"; set both key and id`);
  const key = found[0]!;
  const [typeAttribute] = module.api.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_KEY_TYPE }]);
  const keyType = readUlong(typeAttribute?.value);
  const expected = location.keyType === "rsa" ? pkcs11.CKK_RSA : pkcs11.CKK_EC;
  if (keyType !== expected) {
    const actual = keyType === pkcs11.CKK_RSA ? "RSA" : keyType === pkcs11.CKK_EC ? "EC" : `type ${keyType}`;
    throw new TokenProblem("key", `the private key ${described} is ${actual}, but the signer certificate holds an ${location.keyType.toUpperCase()} key`);
  }
  return key;
}

/** CK_ULONG attribute values come back as native-endian octets (8 on 64-bit Linux). */
function readUlong(value: unknown): number {
  if (!Buffer.isBuffer(value) || value.length === 0) return -1;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}
