/**
 * bench/ml-dsa-speed.ts [SECONDS=1] [ALGORITHM=ml-dsa-65] - the bare ML-DSA signature rate of one
 * core with Node's crypto (its OpenSSL 3.5), the yardstick of issue 15's goal (Vouch's ML-DSA-65 live
 * signing at >= 70% of it): `openssl speed` of the system's OpenSSL 3.0 has no ML-DSA. Signs a
 * 600-octet message (about a tbsResponseData with a nonce) synchronously on this thread for SECONDS,
 * then verifies for SECONDS. Rates are per second of this process's CPU time, not of the wall clock,
 * so that other work on a shared machine does not lower them. Prints one line as run.sh's speed
 * file has them:
 *   ALGORITHM<TAB>signatures per second<TAB>verifications per second
 */
import { generateKeyPairSync, sign, verify } from "node:crypto";

const seconds = Number(process.argv[2] ?? 1);
const algorithm = process.argv[3] ?? "ml-dsa-65";
if (!(seconds > 0 && seconds <= 60) || !/^ml-dsa-(44|65|87)$/.test(algorithm)) {
  process.stderr.write("usage: node bench/ml-dsa-speed.ts [SECONDS (0-60]] [ml-dsa-44|ml-dsa-65|ml-dsa-87]\n");
  process.exit(2);
}
const { privateKey, publicKey } = generateKeyPairSync(algorithm as "ml-dsa-65");
const message = Buffer.alloc(600, 0x5a);

/** Operations per CPU second of `operation`, run back to back for `seconds` of CPU time after a short warm-up. */
function rate(operation: (index: number) => void): number {
  for (let i = 0; i < 20; i++) operation(i);
  const cpuMicros = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  let count = 0;
  const start = cpuMicros();
  while (cpuMicros() - start < seconds * 1e6) {
    for (let i = 0; i < 8; i++) operation(count++);
  }
  return count / ((cpuMicros() - start) / 1e6);
}

const signature = sign(null, message, privateKey);
const signs = rate((index) => {
  message[0] = index & 0xff;
  sign(null, message, privateKey);
});
message[0] = 0x5a;
const verifies = rate(() => {
  if (!verify(null, message, publicKey, signature)) throw new Error("verification failed");
});
process.stdout.write(`${algorithm}\t${signs.toFixed(1)}\t${verifies.toFixed(1)}\n`);
