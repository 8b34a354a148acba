# Pathway: `make run` starts the platform locally; `make test` runs every test.
.PHONY: run cluster test lint deny fuzz chaos bench demo clean build nats help

CARGO ?= cargo
NATS_PORT ?= 14222
# cargo-deny, built from crates.io into .tools/cargo when not on PATH.
CARGO_DENY_VERSION ?= 0.20.2
# `make fuzz`: how long each fuzz target runs.
FUZZ_SECONDS ?= 60
# `make chaos`: how many referrals, and for at least how long faults are injected.
CHAOS_REFERRALS ?= 2000
CHAOS_SECONDS ?= 300

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

nats: ## Find or install nats-server (2.10+) and print its path
	@scripts/nats-server.sh

build: ## Build every binary
	$(CARGO) build --bins

run: build ## Start NATS and every service on SQLite under ./var/, print the URLs
	@NATS_SERVER="$$(scripts/nats-server.sh)" NATS_PORT=$(NATS_PORT) scripts/run.sh

cluster: build ## Three clustered NATS nodes, a PostgreSQL database per service (DATABASE_URL), two instances of each service; CLUSTER_SMOKE=1 sends one referral through and stops
	@NATS_SERVER="$$(scripts/nats-server.sh)" scripts/cluster.sh

test: ## Run every test (real nats-server, headless Chromium, schemathesis on every API, fhir.resources on every FHIR resource; SQLite, and PostgreSQL when one answers)
	@chromedriver="$$(scripts/browser.sh)" && chromium="$$(scripts/browser.sh --chromium)" && \
	schemathesis="$$(scripts/schemathesis.sh)" && fhir_validator="$$(scripts/fhir-validate.sh --install)" && \
	axe_core="$$(scripts/axe-core.sh)" && \
	CHROMEDRIVER="$$chromedriver" CHROMIUM="$$chromium" SCHEMATHESIS="$$schemathesis" FHIR_VALIDATOR="$$fhir_validator" AXE_CORE="$$axe_core" \
	NATS_SERVER="$$(scripts/nats-server.sh)" $(CARGO) test --workspace --lib --bins --tests --no-fail-fast

lint: ## cargo fmt --check, clippy with warnings as errors, no import cycles between modules, and `make deny`
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	python3 scripts/module-cycles.py
	@$(MAKE) --no-print-directory deny

deny: ## cargo deny (deny.toml): licences, duplicate crates, sources; advisories where the RustSec database can be fetched
	@deny="$$(command -v cargo-deny || echo .tools/cargo/bin/cargo-deny)"; \
	if [ ! -x "$$deny" ]; then \
	  echo "Installing cargo-deny $(CARGO_DENY_VERSION) into .tools/cargo (built from crates.io, a few minutes once)..." >&2; \
	  $(CARGO) install cargo-deny --locked --version $(CARGO_DENY_VERSION) --root .tools/cargo || exit 1; \
	  deny=.tools/cargo/bin/cargo-deny; \
	fi; \
	"$$deny" --offline check --hide-inclusion-graph bans licenses sources || exit 1; \
	if timeout 300 "$$deny" fetch db >/dev/null 2>&1; then \
	  "$$deny" --offline check advisories || exit 1; \
	else \
	  echo "*** cargo deny: ADVISORIES NOT CHECKED: the RustSec database (github.com/RustSec/advisory-db)" >&2; \
	  echo "*** cannot be fetched from this network. Run \`make deny\` where it can be fetched;" >&2; \
	  echo "*** DENY_ADVISORIES=required makes this a failure." >&2; \
	  if [ "$$DENY_ADVISORIES" = required ]; then exit 1; fi; \
	fi

fuzz: ## Each fuzz target (fuzz/) for FUZZ_SECONDS (default 60) of generated input; a failure prints the seed that replays it
	BOLERO_RANDOM_ITERATIONS=1000000000000 BOLERO_RANDOM_TEST_TIME_MS=$(FUZZ_SECONDS)000 \
	$(CARGO) test -p pathway-fuzz --test fuzz -- --nocapture

chaos: ## The chaos test, long: CHAOS_REFERRALS referrals over a three-node NATS cluster under CHAOS_SECONDS of faults (PostgreSQL)
	CHAOS_REFERRALS=$(CHAOS_REFERRALS) CHAOS_SECONDS=$(CHAOS_SECONDS) NATS_SERVER="$$(scripts/nats-server.sh)" \
	$(CARGO) test -p pathway-tests --test e2e chaos:: -- --nocapture

bench: ## Intake at fixed offered loads, analytics ingest and metrics queries at 100k and 1M referrals, then the whole pathway end to end (release build)
	@nats="$$(scripts/nats-server.sh)" && \
	NATS_SERVER="$$nats" $(CARGO) bench -p pathway-tests --bench intake && \
	NATS_SERVER="$$nats" $(CARGO) bench -p pathway-tests --bench analytics && \
	NATS_SERVER="$$nats" $(CARGO) bench -p pathway-tests --bench pathway

demo: build ## Send synthetic referrals to a running platform (after `make run`)
	$(CARGO) run --quiet --bin pathway -- demo --referrals 50

clean: ## Remove build output and local data (./var)
	$(CARGO) clean
	rm -rf var
