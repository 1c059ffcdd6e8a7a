#!/usr/bin/env node
// Big index files start loading before the rest of Vouch's modules do (dist/cli/early-start.js).
import { startEarly } from "../dist/cli/early-start.js";

await startEarly(process.argv.slice(2));
await import("../dist/main.js");
