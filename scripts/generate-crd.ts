// Writes the EventPipeline CRD (charts/eap-operator/crds/eventpipelines.eap.dev.yaml) from the zod
// schema of its spec and status (packages/manifests). Part of `make docs`; with --check it only
// compares, and a unit test fails when the committed copy differs from a fresh generation.
import { buildEventPipelineCrd, crdYaml } from '../packages/manifests/src/index.ts';
import { writeOrCheck } from './docs/generated-file.ts';

writeOrCheck('charts/eap-operator/crds/eventpipelines.eap.dev.yaml', crdYaml(buildEventPipelineCrd()));
