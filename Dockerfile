# EAP platform image: one image, entrypoint `eap` (api, worker, migrate, project, key, dlq).
# TypeScript runs directly on Node 24's type stripping, so there is no build step: the image holds
# the sources and production dependencies only.

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

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# NODE_OPTIONS (V8 heap sizes) are set per service where the image runs: each process has its
# own working set. Recommended values: RECOMMENDED_NODE_OPTIONS in packages/core; the compose
# stack and the benchmark use them.
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY packages ./packages
COPY services ./services
# Numeric, so that Kubernetes can verify runAsNonRoot without a runAsUser.
USER 1000:1000
EXPOSE 8000 9464
# tini forwards SIGTERM to node and reaps zombies, so graceful shutdown works as PID 1.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/services/cli/bin/eap.js"]
CMD ["api"]
