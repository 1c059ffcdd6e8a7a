import { after } from "node:test";
import { systemClock } from "../../clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import { readPemDer } from "../../pki/openssl-pki.ts";
import { statusSourceContract } from "../status-source.contract.ts";
import { importIndexFile } from "./import-index.ts";
import { issuerIdentity } from "./issuer-identity.ts";
import { openStoreDatabase } from "./open-database.ts";
import { openSqlSource } from "./sql-source.ts";
import type { TestStore } from "./test-support/stores.ts";
import { testStore } from "./test-support/stores.ts";

const stores: TestStore[] = [];
after(async () => {
  for (const store of stores) await store.drop();
});

for (const engine of ["sqlite", "postgres"] as const) {
  statusSourceContract(`openSqlSource (${engine})`, async (pki) => {
    const store = await testStore(engine);
    stores.push(store);
    const issuer = await readPemDer(pki.ca);
    const db = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
    try {
      await importIndexFile(db, issuerIdentity(issuer), pki.index, systemClock.now());
    } finally {
      await db.close();
    }
    return openSqlSource({ database: store.database, schema: store.schema, issuer, clock: systemClock, logger: silentLogger });
  });
}
