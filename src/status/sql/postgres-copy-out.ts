/**
 * `COPY (…) TO STDOUT (FORMAT binary)` over a pg Client, its rows handed to a callback as they
 * arrive. pg itself drops COPY data; this is a Submittable (pg's documented hook for custom
 * queries, which pg-cursor also uses) that receives the CopyData messages. The server sends one row
 * per message, the first one after the file header (PostgreSQL protocol §55.2.6, COPY binary format).
 */
import type pg from "pg";

/** A field's bytes in `chunk[start, end)`, or null (start = end = -1). */
export interface CopyRow {
  readonly chunk: Buffer;
  /** Offsets of each field's value in chunk, -1 for NULL. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
}

/** Thrown when the stream is not binary COPY data of the expected width. */
export class CopyFormatError extends Error {
  override readonly name = "CopyFormatError";
}

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * Runs `copySql` (a `COPY … TO STDOUT (FORMAT binary)` of `width` columns) and calls `onRow` for each
 * row; `row` is reused between calls, and its chunk is valid only during the call. Resolves with the
 * number of rows; rejects with the server's error, CopyFormatError, or what `onRow` threw.
 */
export function copyOut(client: pg.Client, copySql: string, width: number, onRow: (row: CopyRow) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const row: { chunk: Buffer; starts: Int32Array; ends: Int32Array } = { chunk: Buffer.alloc(0), starts: new Int32Array(width), ends: new Int32Array(width) };
    let headerSeen = false;
    let trailerSeen = false;
    let rows = 0;
    let failure: unknown;
    const read = (chunk: Buffer): void => {
      let p = 0;
      if (!headerSeen) {
        if (chunk.length < SIGNATURE.length + 8 || !chunk.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new CopyFormatError("not binary COPY data");
        p = SIGNATURE.length + 8 + chunk.readUInt32BE(SIGNATURE.length + 4);
        headerSeen = true;
      }
      while (p < chunk.length) {
        if (trailerSeen) throw new CopyFormatError("data after the trailer");
        const fields = chunk.readInt16BE(p);
        p += 2;
        if (fields === -1) {
          trailerSeen = true;
          continue;
        }
        if (fields !== width) throw new CopyFormatError(`a row of ${fields} fields, expected ${width}`);
        for (let i = 0; i < width; i++) {
          const length = chunk.readInt32BE(p);
          p += 4;
          if (length < 0) {
            row.starts[i] = -1;
            row.ends[i] = -1;
          } else {
            if (p + length > chunk.length) throw new CopyFormatError("a field runs past its message");
            row.starts[i] = p;
            row.ends[i] = p + length;
            p += length;
          }
        }
        row.chunk = chunk;
        onRow(row);
        rows++;
      }
    };
    const noop = (): void => {};
    const copy = {
      // pg wraps this with its client-side read timeout (query_timeout) when the query is queued,
      // and calls it with the timeout's error: a COPY over a silent network rejects then instead of
      // never. Called once the server is done, so that the timer is cleared.
      callback(error: Error | undefined): void {
        if (error !== undefined) reject(error);
      },
      submit(connection: pg.Connection): void {
        connection.query(copySql);
      },
      handleCopyData(message: { chunk: Buffer }): void {
        if (failure !== undefined) return;
        try {
          read(message.chunk);
        } catch (error) {
          // Keep reading (and dropping) until the server is done, so the connection stays usable.
          failure = error;
        }
      },
      handleError(error: unknown): void {
        // At once: a lost connection reports here and sends no ReadyForQuery (the caller ends the
        // client after any failure, so nothing needs it usable).
        failure ??= error;
        reject(failure);
      },
      handleReadyForQuery(): void {
        copy.callback(undefined);
        if (failure !== undefined) reject(failure);
        else if (!trailerSeen) reject(new CopyFormatError("COPY ended without its trailer"));
        else resolve(rows);
      },
      handleCommandComplete: noop,
      handleRowDescription: noop,
      handleDataRow: noop,
      handleEmptyQuery: noop,
      handlePortalSuspended: noop,
      handleCopyInResponse: noop,
    };
    client.query(copy);
  });
}
