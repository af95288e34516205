// Prints the path of one tool built by k8s-tools.ts (e.g. `node scripts/k8s/tool-path.ts helm`),
// so Make targets can run the pinned binaries from .tools/k8s/.
import { readToolManifest, type ToolName } from './tool-manifest.ts';

const name = process.argv[2] as ToolName | undefined;
if (!name) {
  console.error('usage: node scripts/k8s/tool-path.ts <tool>');
  process.exit(2);
}
const tool = readToolManifest([name]).tools[name];
if (!tool) {
  console.error(`${name} is not built: run make k8s-tools`);
  process.exit(1);
}
console.log(tool.path);
