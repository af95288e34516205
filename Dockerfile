# EAP platform image: one image, entrypoint `eap` (api, worker, migrate, project, key, dlq).
# It runs `eap` bundled into one JavaScript file (scripts/build-bundle.ts), built here from the
# sources: no type stripping and no node_modules at run time (node_modules/ holds only the GeoIP
# databases), about 25 MiB less resident memory per process than running the TypeScript
# (benchmarks/memory.md). Development and the tests run the sources.

# The Node base: the public image for users; `make images` passes a local stand-in where no
# registry can be reached (scripts/containers/images.ts).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Every workspace's package.json, so that npm ci finds the whole lockfile's workspace set.
COPY packages/admin-server/package.json packages/admin-server/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/local-services/package.json packages/local-services/
COPY packages/manifests/package.json packages/manifests/
COPY packages/traffic/package.json packages/traffic/
COPY services/api/package.json services/api/
COPY services/cli/package.json services/cli/
COPY services/worker/package.json services/worker/
COPY operator/package.json operator/
# Only what `eap` runs (the API, the worker, the CLI and the packages they use): the operator's
# Kubernetes and cdk8s libraries stay out of this image (46 MB of node_modules instead of 144).
RUN npm ci --omit=dev --no-audit --no-fund --workspace services/api --workspace services/worker --workspace services/cli

FROM deps AS bundle
# esbuild alone of the development dependencies, at the lockfile's version (a full `npm ci` would
# bring the test tooling too).
RUN version=$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version") \
 && npm install --prefix /tmp/esbuild --no-save --no-package-lock --no-audit --no-fund "esbuild@${version}" \
 && cp -r /tmp/esbuild/node_modules/esbuild /tmp/esbuild/node_modules/@esbuild node_modules/
COPY packages ./packages
COPY services ./services
COPY scripts/build-bundle.ts ./scripts/
RUN node scripts/build-bundle.ts /bundle

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# At most two malloc arenas: NATIVE_ENV (packages/core/src/node-options.ts), 5-13 MiB less RSS.
ENV MALLOC_ARENA_MAX=2
# NODE_OPTIONS (V8 heap sizes) are set per service where the image runs: each process has its
# own working set. Recommended values: RECOMMENDED_NODE_OPTIONS in packages/core; the compose
# stack and the benchmark use them.
WORKDIR /app
# DB-IP's IP to City Lite databases (134 MB, CC BY 4.0, docs/enrichment.md), first: the largest
# layer changes only with the package, not with the code. The API reads them by position, so they
# cost disk and page cache, not process memory.
COPY --from=bundle /bundle/node_modules ./node_modules
COPY --from=bundle /bundle/package.json ./
COPY --from=bundle /bundle/bin ./bin
COPY --from=bundle /bundle/static ./static
# The migrations stay where the image has always had them (images built FROM this one add theirs
# there); the bundle reads them as ../migrations from bin/.
COPY packages/db/migrations ./packages/db/migrations
RUN ln -s packages/db/migrations /app/migrations
# Numeric, so that Kubernetes can verify runAsNonRoot without a runAsUser.
USER 1000:1000
EXPOSE 8000 9464
# tini forwards SIGTERM to node and reaps zombies, so graceful shutdown works as PID 1.
# bin/eap-node.sh (written with the bundle) execs node with the flags NODE_OPTIONS may not carry,
# those of every command and the worker's own (nodeCommandFlags in packages/core/src/node-options.ts).
ENTRYPOINT ["/usr/bin/tini", "--", "/bin/sh", "/app/bin/eap-node.sh"]
CMD ["api"]
