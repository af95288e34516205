/** What to build from a Go module ({@link GoToolModule}) and where its binaries are cached. */
import { join } from 'node:path';
import type { ModuleInfo } from './go-modules.ts';
import type { ToolName } from './tool-manifest.ts';
import { TOOLS_ROOT } from './tools-dir.ts';

export interface GoToolModule {
  /** Folder name prefix under TOOLS_ROOT. */
  id: string;
  module: string;
  version: string;
  /** Replacement version for k8s.io staging modules (only for k8s.io/kubernetes). */
  stagingVersion?: string;
  /** Binary name → package path. */
  binaries: Partial<Record<ToolName, string>>;
  tags?: readonly string[];
  /** `-X` settings for the linker. */
  linkerVars: (info: ModuleInfo) => Record<string, string>;
  /** Arguments that print the version (default `--version`). */
  versionArgs?: (tool: ToolName) => readonly string[];
  /** Data files to write next to the binaries, made from the module's source: file name → content. */
  dataFiles?: (info: ModuleInfo) => Record<string, string>;
  /**
   * Build with cgo (CGO_ENABLED=1, the machine's gcc) instead of static pure-Go binaries: for
   * binaries that link a C library (runc and libseccomp).
   */
  cgo?: boolean;
  /** Debian packages the build needs (e.g. `libseccomp-dev`): installed with apt-get when missing. */
  debianBuildPackages?: readonly string[];
}

export function moduleCacheDir(spec: GoToolModule): string {
  return join(TOOLS_ROOT, `${spec.id}-${spec.version}`);
}

export function binaryPath(spec: GoToolModule, tool: ToolName): string {
  return join(moduleCacheDir(spec), 'bin', tool);
}
