import { readFile } from 'node:fs/promises';

/** The last `lines` lines of a log file, or a note that it could not be read. */
export async function readLogTail(file: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
    return tail === '' ? `(log file ${file} is empty)` : tail;
  } catch (error) {
    return `(could not read log file ${file}: ${(error as Error).message})`;
  }
}
