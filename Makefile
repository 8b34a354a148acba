# Pathway: `make run` starts the platform locally; `make test` runs every test.
.PHONY: run test lint bench demo clean build nats help

CARGO ?= cargo
NATS_PORT ?= 14222

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

nats: ## Find or install nats-server (2.10+) and print its path
	@scripts/nats-server.sh

build: ## Build every binary
	$(CARGO) build --bins

run: build ## Start NATS and every service on SQLite under ./var/, print the URLs
	@NATS_SERVER="$$(scripts/nats-server.sh)" NATS_PORT=$(NATS_PORT) scripts/run.sh

test: ## Run every test (real nats-server, headless Chromium; SQLite, and PostgreSQL when one answers)
	@chromedriver="$$(scripts/browser.sh)" && chromium="$$(scripts/browser.sh --chromium)" && \
	CHROMEDRIVER="$$chromedriver" CHROMIUM="$$chromium" \
	NATS_SERVER="$$(scripts/nats-server.sh)" $(CARGO) test --workspace --lib --bins --tests --no-fail-fast

lint: ## cargo fmt --check, clippy with warnings as errors, and no import cycles between modules
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	python3 scripts/module-cycles.py

bench: ## Intake at fixed offered loads, then analytics ingest and metrics queries at 100k and 1M referrals (release build)
	@nats="$$(scripts/nats-server.sh)" && \
	NATS_SERVER="$$nats" $(CARGO) bench -p pathway-tests --bench intake && \
	NATS_SERVER="$$nats" $(CARGO) bench -p pathway-tests --bench analytics

demo: build ## Send synthetic referrals to a running platform (after `make run`)
	$(CARGO) run --quiet --bin pathway -- demo --referrals 50

clean: ## Remove build output and local data (./var)
	$(CARGO) clean
	rm -rf var
