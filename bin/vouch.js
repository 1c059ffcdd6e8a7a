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
// A server's young generation grows to 64 MB by default (two 32 MB semi-spaces, both touched, so
// resident) under load, to no measurable gain in CPU per request here: `vouch serve` and `vouch demo`
// run with semi-spaces of at most 4 MB, inherited by worker threads and forked worker processes
// (measured, --workers 1, a connection per request: 155-158 -> 121-149 MB under load; issue 18,
// bench/RESULTS.md). Node reads the flag only at start, so this process re-executes itself with it
// (same pid, same descriptors); one started with any --max-semi-space-size keeps its own choice.
var SEMI_SPACE_FLAG = "--max-semi-space-size";
var command = process.argv[2];
var sized = process.execArgv.concat((process.env.NODE_OPTIONS || "").split(/\s+/)).some(function (arg) {
  return arg.indexOf(SEMI_SPACE_FLAG) === 0 || arg.indexOf("--max_semi_space_size") === 0;
});
if ((command === "serve" || command === "demo") && !sized && typeof process.execve === "function") {
  try {
    process.execve(process.execPath, [process.execPath, SEMI_SPACE_FLAG + "=4"].concat(process.execArgv, process.argv.slice(1)), process.env);
  } catch (error) {
    // Not re-executed (e.g. a seccomp policy forbids execve): serve with V8's default sizing, and say so.
    process.stderr.write("vouch: serving with V8's default young generation (" + String(error && error.message) + ")\n");
  }
}
import("../dist/main.js").catch(function (error) {
  if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).indexOf("dist") !== -1) {
    // A checkout that was never built (`npm run build` compiles src/ into dist/).
    process.stderr.write("vouch: " + String(error.message).split("\n")[0] + ": run `npm run build` first\n");
    process.exit(1);
  }
  throw error;
});
