import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from './progress-log.ts';
import { TOOLS_ROOT } from './tools-dir.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One build at a time per machine (a developer and CI may share the cache): `<TOOLS_ROOT>/.lock`. */
export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(TOOLS_ROOT, { recursive: true });
  const lockFile = join(TOOLS_ROOT, '.lock');
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (!announced) log(`waiting for another k8s-tools run (pid ${owner}) to finish ...`);
      announced = true;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
