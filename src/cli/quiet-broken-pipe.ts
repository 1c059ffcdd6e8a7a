/**
 * A reader that went away is not an error: `vouch billing summary … | head` closes the pipe after a
 * few lines, and the next write to it fails with EPIPE, which Node reports as an unhandled 'error'
 * event with a stack trace (exit 1). Like `cat` or `grep`, the command then stops quietly, with
 * exit code 0: what the reader wanted was written. Any other error on the stream is left alone.
 */
export function quietOnBrokenPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") {
      exit(0);
      return;
    }
    throw error;
  });
}
