/**
 * The kind demo's manifests (deploy/kind/*.yaml) as this machine runs them.
 *
 *   node scripts/containers/demo-manifests.ts            # the manifests, for `kubectl apply -f -`
 *   node scripts/containers/demo-manifests.ts --images   # the images the demo needs loaded into kind
 *
 * The files name the public images (redis, postgres, prom/prometheus, grafana). Where
 * `make images` chose local stand-ins (.eap/images.env), each reference is replaced by the
 * stand-in, which `make kind-load` loads into the cluster; Grafana, which has no stand-in, runs
 * with 0 replicas there. With the public images (a laptop), the files are applied unchanged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { GRAFANA_IMAGE, PUBLIC_IMAGES, readImagesEnv } from './images.ts';

const DEMO_DIR = resolve(import.meta.dirname, '../../deploy/kind');

interface PodTemplateOwner {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } };
  };
}

/** Public image → this machine's image, for every base `make images` replaced by a stand-in. */
function replacements(images: Record<string, string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [variable, publicImage] of Object.entries(PUBLIC_IMAGES)) {
    const chosen = images[variable];
    if (chosen && chosen !== publicImage) map.set(publicImage, chosen);
  }
  return map;
}

/** The demo's objects with this machine's images (see the module comment). */
export function demoManifests(images: Record<string, string> = readImagesEnv()): { yaml: string; images: string[] } {
  const swap = replacements(images);
  const withoutGrafana = images.GRAFANA_REPLICAS === '0';
  const needed = new Set<string>();
  const documents: string[] = [];
  for (const file of readdirSync(DEMO_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(join(DEMO_DIR, file), 'utf8'))) {
      const object = document.toJS() as PodTemplateOwner | null;
      if (!object) continue;
      const podSpec = object.spec?.template?.spec;
      const containers = [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])];
      for (const container of containers) {
        if (container.image && swap.has(container.image)) container.image = swap.get(container.image);
        if (container.image === GRAFANA_IMAGE && withoutGrafana && object.spec) object.spec.replicas = 0;
        else if (container.image && container.image !== GRAFANA_IMAGE) needed.add(container.image);
      }
      // JSON (valid YAML): nothing is left to a YAML 1.1 reader's guesses (kubectl reads `yes` as true).
      documents.push(`${JSON.stringify(object, null, 2)}\n`);
    }
  }
  return { yaml: documents.join('---\n'), images: [...needed].filter((image) => [...swap.values()].includes(image)).sort() };
}

if (import.meta.main) {
  const { yaml, images } = demoManifests();
  process.stdout.write(process.argv.includes('--images') ? `${images.join('\n')}\n` : yaml);
}
