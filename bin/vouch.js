#!/usr/bin/env node
// The `vouch` command. Written in the oldest syntax Node parses in both module kinds (no import
// statement, no top-level await), so that an older Node reaches the version check and prints one
// line, instead of a stack trace about node:sqlite or a syntax error.
var REQUIRED_MAJOR = 24;
var major = Number(process.versions.node.split(".")[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    "vouch: needs Node.js " + REQUIRED_MAJOR + " or later, but " + process.execPath + " is Node.js " + process.versions.node +
      " (install Node.js " + REQUIRED_MAJOR + ", e.g. npm install -g node@" + REQUIRED_MAJOR + ": see README.md, Installing)\n",
  );
  process.exit(1);
}
import("../dist/main.js").catch(function (error) {
  if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).indexOf("dist") !== -1) {
    // A checkout that was never built (`npm run build` compiles src/ into dist/).
    process.stderr.write("vouch: " + String(error.message).split("\n")[0] + ": run `npm run build` first\n");
    process.exit(1);
  }
  throw error;
});
