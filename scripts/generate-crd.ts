// Writes the EventPipeline CRD (charts/eap-operator/crds/eventpipelines.eap.dev.yaml) and its
// reference (docs/eventpipeline.md) from the zod schema of its spec and status
// (packages/manifests). Part of `make docs`; with --check it only compares, and unit tests fail
// when a committed copy differs from a fresh generation.
import { buildEventPipelineCrd, crdYaml } from '../packages/manifests/src/index.ts';
import { eventPipelineReference } from './docs/eventpipeline-reference.ts';
import { writeOrCheck } from './docs/generated-file.ts';

writeOrCheck('charts/eap-operator/crds/eventpipelines.eap.dev.yaml', crdYaml(buildEventPipelineCrd()));
writeOrCheck('docs/eventpipeline.md', eventPipelineReference());
