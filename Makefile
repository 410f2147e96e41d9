# Sluice — build, test, benchmark, lint. `make test` runs every test suite
# that can run on this machine and says which database suites it skipped.

GO      ?= go
PKG     := github.com/sluicehq/sluice
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT) -X $(PKG)/internal/version.Date=$(DATE)
# The race detector roughly doubles test time; CI keeps it on.
RACE    ?= -race
TIMEOUT ?= 12m

.PHONY: build test bench bench-go lint suites console console-test clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/sluice ./cmd/sluice

# suites prints which database suites run, and why the others are skipped.
suites:
	@echo "== test suites =="
	@echo "  sqlite:   runs (embedded)"
	@if [ -n "$$SLUICE_TEST_POSTGRES" ]; then echo "  postgres: runs against $$SLUICE_TEST_POSTGRES"; else echo "  postgres: SKIPPED (SLUICE_TEST_POSTGRES not set; e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)"; fi
	@if [ -n "$$SLUICE_TEST_MYSQL" ]; then echo "  mysql:    runs against $$SLUICE_TEST_MYSQL"; else echo "  mysql:    SKIPPED (SLUICE_TEST_MYSQL not set; e.g. mysql://root@tcp(127.0.0.1:3306)/test)"; fi
	@if [ -n "$$SLUICE_TEST_REDIS" ]; then echo "  redis:    runs against $$SLUICE_TEST_REDIS"; else echo "  redis:    SKIPPED (SLUICE_TEST_REDIS not set; e.g. redis://127.0.0.1:6379/0)"; fi
	@if [ -d web/node_modules ]; then echo "  console:  unit tests run (Vitest)"; else echo "  console:  SKIPPED (web/node_modules missing: cd web && npm ci)"; fi
	@if [ -d web/node_modules ] && [ -x "$${SLUICE_CHROMIUM:-/usr/bin/chromium}" ]; then echo "  browser:  runs in $${SLUICE_CHROMIUM:-/usr/bin/chromium}"; else echo "  browser:  SKIPPED (needs web/node_modules and Chromium: apt-get install chromium)"; fi

test: suites console-test
	CGO_ENABLED=1 $(GO) test $(RACE) -timeout $(TIMEOUT) -count=1 ./...
	@# Stack sizes are measured without the race detector, which enlarges every frame.
	CGO_ENABLED=1 $(GO) test -count=1 -run 'TestOpenStreamStackStaysSmall' ./server
	@$(MAKE) --no-print-directory suites

# bench is the load benchmark (bench/README.md): the gateway against a
# direct call to a fake upstream, in one run. BENCH_FLAGS passes options,
# e.g. BENCH_FLAGS='--duration 10s --profile'. bench-go runs the Go
# micro-benchmarks.
# console-test type-checks the console and runs its Vitest suite (the
# browser suite is a Go test in e2e/, so it runs under `go test`).
console-test:
	@if [ -d web/node_modules ]; then cd web && npx tsc --noEmit && npx vitest run; else echo "console unit tests SKIPPED: web/node_modules missing (cd web && npm ci)"; fi

# console rebuilds web/dist, which is committed and embedded by go build.
console:
	cd web && npm ci --no-audit --no-fund && npm run build

bench:
	$(GO) run ./bench $(BENCH_FLAGS)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
