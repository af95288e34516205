// `helm test` of the eap-operator chart, run by node in the operator image: the operator's metrics
// Service answers /readyz (a replica is ready), and the API server serves EventPipelines (the CRD
// is installed, established, and this release's namespace can list them). Exit 1 with every
// failure listed. The environment names what to check; the defaults are the pod's own.
import { readFileSync } from 'node:fs';

const serviceAccountDir = process.env.SERVICEACCOUNT_DIR ?? '/var/run/secrets/kubernetes.io/serviceaccount';
const apiServer = process.env.KUBERNETES_API ?? 'https://kubernetes.default.svc';
const failures = [];

async function check(what, url, init, problemOf) {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const problem = problemOf(response.status, await response.text());
    if (problem) failures.push(`${what}: ${url}: ${problem}`);
    else console.log(`ok: ${what}`);
  } catch (error) {
    failures.push(`${what}: ${url}: ${error.cause?.message ?? error.message}`);
  }
}

await check('the operator is ready', process.env.READYZ_URL, {}, (status, body) =>
  status === 200 ? undefined : `HTTP ${status} ${body.slice(0, 300)}`,
);
const token = readFileSync(`${serviceAccountDir}/token`, 'utf8').trim();
await check(
  'EventPipelines are served',
  `${apiServer}/apis/eap.dev/v1alpha1/namespaces/${process.env.NAMESPACE}/eventpipelines?limit=1`,
  { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
  (status, body) => {
    if (status !== 200) return `HTTP ${status} ${body.slice(0, 300)}`;
    const kind = JSON.parse(body).kind;
    return kind === 'EventPipelineList' ? undefined : `answered a ${kind}, not an EventPipelineList`;
  },
);
for (const failure of failures) console.error(`FAILED ${failure}`);
process.exit(failures.length === 0 ? 0 : 1);
