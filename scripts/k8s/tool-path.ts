// Prints the path of one tool built by k8s-tools.ts, so Make targets and shell scripts can run the
// pinned binaries from .tools/k8s/: e.g. `node scripts/k8s/tool-path.ts helm`, or
// `node scripts/k8s/tool-path.ts docker-compose` after `node scripts/k8s/k8s-tools.ts compose`.
// Exits 1 (with what to run on stderr) when the tool is not built. TypeScript callers can import
// toolPath() from ./tool-manifest.ts instead.
import { type ToolName, toolPath } from './tool-manifest.ts';

const name = process.argv[2] as ToolName | undefined;
if (!name || process.argv.length > 3) {
  console.error('usage: node scripts/k8s/tool-path.ts <tool>');
  process.exit(2);
}
try {
  console.log(toolPath(name));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
