/**
 * One `vouch serve` per address. Workers listen with SO_REUSEPORT, which would let a second serve of
 * the same configuration share every port silently, the kernel spreading connections over both. So
 * before anything listens, `vouch serve` claims each fixed address it will serve:
 *
 * 1. a lock: an abstract Unix socket named after the address (Linux), held until the process exits
 *    (the kernel drops it even after SIGKILL, so there is no stale lock), whose holder answers a
 *    connection with its pid. Taken at once, it also shuts out a second serve started while the
 *    first one is still loading its data, before its workers listen;
 * 2. a probe: a plain listen on the address, closed at once, which fails while any other socket
 *    listens there (a serve with other host spelling, 0.0.0.0 against 127.0.0.1, or another
 *    program), since only sockets that all set SO_REUSEPORT may share a port.
 *
 * Port 0 (a free port each time) is never claimed. Abstract sockets live in the network namespace,
 * as ports do: containers each have their own.
 */
import { connect, createServer, type Server } from "node:net";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";

/** The addresses a serve holds; `release` lets them go (a process that exits lets them go anyway). */
export interface AddressClaim {
  release(): Promise<void>;
}

interface ClaimedAddress {
  readonly host: string;
  readonly port: number;
  /** `responders[0].listen`, `admin.listen`: where an error points. */
  readonly field: string;
}

/**
 * Claims every fixed address of `config` (responders' and the admin listener's) for this process.
 * Throws ConfigError naming the field and, when another `vouch serve` holds it, that serve's pid.
 */
export async function claimAddresses(config: Config, configFile: string): Promise<AddressClaim> {
  const locks: Server[] = [];
  const release = () => Promise.all(locks.map((lock) => new Promise<void>((resolve) => lock.close(() => resolve())))).then(() => undefined);
  try {
    for (const address of fixedAddresses(config)) {
      const held = process.platform === "linux" ? await lock(address, configFile) : undefined;
      if (held !== undefined) locks.push(held);
      await probe(address, configFile);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { release };
}

function fixedAddresses(config: Config): ClaimedAddress[] {
  const addresses = new Map<string, ClaimedAddress>();
  const add = (host: string, port: number, field: string) => {
    if (port !== 0 && !addresses.has(`${host}|${port}`)) addresses.set(`${host}|${port}`, { host, port, field });
  };
  for (const [index, responder] of config.responders.entries()) add(responder.listen.host, responder.listen.port, `responders[${index}].listen`);
  if (config.admin !== undefined) add(config.admin.listen.host, config.admin.listen.port, "admin.listen");
  return [...addresses.values()];
}

const lockName = (address: ClaimedAddress) => `\0vouch-serve:${address.host}:${address.port}`;

/**
 * Holds the address's lock socket, or throws naming the serve that holds it. Undefined where no
 * abstract socket can be made (a sandbox without them): the probe still guards.
 */
async function lock(address: ClaimedAddress, configFile: string): Promise<Server | undefined> {
  const server = createServer((connection) => connection.end(`${process.pid}\n`));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(lockName(address), () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") return undefined;
    const holder = await lockHolder(address);
    throw new ConfigError(address.field, `${address.host}:${address.port} is already served by another vouch serve${holder === undefined ? "" : ` (pid ${holder})`}`, { file: configFile });
  }
  // Never what keeps the process alive.
  server.unref();
  return server;
}

/** The pid the lock's holder answers with (undefined if it does not within a second). */
function lockHolder(address: ClaimedAddress): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(lockName(address));
    socket.setTimeout(1000, () => socket.destroy());
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => resolve(/^\d+\n$/.test(text) ? Number(text) : undefined));
  });
}

/** Listens on the address without SO_REUSEPORT and closes at once: EADDRINUSE means someone listens there. */
async function probe(address: ClaimedAddress, configFile: string): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: address.host, port: address.port, exclusive: true }, () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Other problems (EACCES for a low port, EADDRNOTAVAIL) are for the listener itself to report.
    if (code !== "EADDRINUSE") return;
    throw new ConfigError(address.field, `${address.host}:${address.port} is in use by another process (EADDRINUSE)`, { file: configFile, cause: error });
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
