/**
 * Fresh stores for tests: an SQLite file in a temporary folder, or a PostgreSQL schema with a
 * unique name in the shared test database (dropped by `drop()`).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** The test database (trust auth on this machine); VOUCH_TEST_DATABASE_URL overrides it. */
export const TEST_DATABASE_URL = process.env["VOUCH_TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

/** Where a test store lives, as `database` and `schema` options, and how to remove it. */
export interface TestStore {
  readonly engine: "sqlite" | "postgres";
  readonly database: string;
  /** PostgreSQL schema (undefined for SQLite). */
  readonly schema: string | undefined;
  /** Command-line options naming the store (`--database … [--schema …]`). */
  readonly args: string[];
  drop(): Promise<void>;
}

/** A new, empty store location for `engine` (nothing is created until it is opened). */
export async function testStore(engine: "sqlite" | "postgres"): Promise<TestStore> {
  if (engine === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "vouch-sql-"));
    const database = join(dir, "status.db");
    return { engine, database, schema: undefined, args: ["--database", database], drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const schema = `vouch_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  return {
    engine,
    database: TEST_DATABASE_URL,
    schema,
    args: ["--database", TEST_DATABASE_URL, "--schema", schema],
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
