import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEMO_ADMIN_TOKENS } from '@eap/api';
import { runEap } from '@eap/local-services';
import { spawnApi } from './support/pipeline-processes.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// The admin tokens printed in the project's own files are public: `eap api` refuses them unless
// EAP_ALLOW_DEMO_TOKEN=true, which only the demos set.
const backends = useDatabaseAndRedis();
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('a demo admin token', () => {
  it('stops `eap api` at start with a clear message, as every other bad variable does', async () => {
    for (const token of [...DEMO_ADMIN_TOKENS, 'my-own-token-change-me']) {
      const run = await runEap(['api'], { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url, EAP_ADMIN_TOKEN: token });
      expect(run.code, token).toBe(1);
      expect(run.stderr).toContain('EAP_ADMIN_TOKEN: is a publicly known demo token');
      expect(run.stderr).toContain('EAP_ALLOW_DEMO_TOKEN=true');
      expect(run.stderr).not.toContain(token); // the value itself is never printed
    }
  });

  it('is accepted with EAP_ALLOW_DEMO_TOKEN=true, and then works on the admin routes', async () => {
    const api = await spawnApi({
      DATABASE_URL: backends.db.url,
      REDIS_URL: backends.redis.url,
      EAP_ADMIN_TOKEN: DEMO_ADMIN_TOKENS[0],
      EAP_ALLOW_DEMO_TOKEN: 'true',
    });
    try {
      const res = await fetch(`${api.url}/v1/projects`, { headers: { authorization: `Bearer ${DEMO_ADMIN_TOKENS[0]}` } });
      expect(res.status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('is the only kind of admin token the shipped demos use, and they allow it explicitly', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true });
    const composeToken = /:-([^}]+)\}/.exec(compose.services.api.environment.EAP_ADMIN_TOKEN)?.[1];
    expect(DEMO_ADMIN_TOKENS).toContain(composeToken);
    expect(compose.services.api.environment.EAP_ALLOW_DEMO_TOKEN).toBe('true');

    const kind = parseAllDocuments(read('deploy/kind/10-backends.yaml')).map((d) => d.toJS());
    const kindToken = kind.find((o) => o?.kind === 'Secret')?.stringData?.['admin-token'];
    expect(DEMO_ADMIN_TOKENS).toContain(kindToken);
    const pipeline = parseAllDocuments(read('deploy/kind/30-eventpipeline.yaml'))[0]?.toJS();
    expect(pipeline.spec.api.allowDemoAdminToken).toBe(true);

    // Every `Bearer <token>` the README shows with a literal token is one of them.
    const readmeTokens = [...read('README.md').matchAll(/Bearer ([a-z][\w-]*-token[\w-]*)/g)].map((m) => m[1]);
    expect(readmeTokens.length).toBeGreaterThan(0);
    for (const token of readmeTokens) expect(DEMO_ADMIN_TOKENS).toContain(token);
  });
});
