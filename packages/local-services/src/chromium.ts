import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { aptInstall, hasAptGet } from './apt-install.ts';

/** Names the Chromium binary goes by (Debian's package installs `chromium`). */
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Locates a Chromium (or Chrome) binary: `CHROMIUM_PATH` when set, else the first of
 * chromium, chromium-browser, google-chrome-stable, google-chrome on PATH or in /usr/bin.
 */
export async function findChromium(): Promise<string | undefined> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return (await isExecutable(fromEnv)) ? fromEnv : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), '/usr/bin'];
  for (const name of CHROMIUM_NAMES) {
    for (const dir of dirs) {
      if (await isExecutable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

/**
 * A Chromium binary for the browser SDK tests: the one found, or, running as root where
 * apt-get exists, Debian's `chromium` package installed (`apt-get update` first). Throws with
 * the command to run otherwise.
 */
export async function ensureChromium(): Promise<string> {
  const found = await findChromium();
  if (found !== undefined) return found;
  const hint = "install Debian/Ubuntu's `chromium` (sudo apt-get install -y chromium) or set CHROMIUM_PATH";
  if (process.getuid?.() !== 0) throw new Error(`Chromium not found: ${hint}. Not installed automatically: not running as root.`);
  if (!(await hasAptGet())) throw new Error(`Chromium not found: ${hint}. Not installed automatically: apt-get is not available.`);
  await aptInstall(['chromium']);
  const installed = await findChromium();
  if (installed === undefined) throw new Error(`Chromium still missing after apt-get install chromium: ${hint}.`);
  return installed;
}
