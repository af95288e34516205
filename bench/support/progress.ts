/** One live status line on stderr (rewritten in place on a terminal, one line per update otherwise). */
export function createProgress() {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    update(text: string): void {
      last = text;
      if (tty) process.stderr.write(`\r\x1b[K${text}`);
    },
    /** Ends the current line and prints a final message for the step. */
    done(text: string): void {
      if (tty) process.stderr.write('\r\x1b[K');
      else if (last) process.stderr.write(`${last}\n`);
      process.stderr.write(`${text}\n`);
      last = '';
    },
  };
}
export type Progress = ReturnType<typeof createProgress>;
