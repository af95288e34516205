import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** Cache of the built tools (`.tools/k8s/`, git-ignored); `EAP_K8S_TOOLS_DIR` overrides it. */
export const TOOLS_ROOT = process.env.EAP_K8S_TOOLS_DIR ?? join(REPO_ROOT, '.tools', 'k8s');
