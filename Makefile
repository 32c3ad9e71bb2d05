# kumo's build, test and measurement entry points. `make help` lists them.
# Every target runs from a fresh clone; ../shared (conformance, bench) is
# expected beside the repository, or set SHARED=/path/to/shared.

SHELL   := /bin/bash
GO      ?= go
SHARED  ?= ../shared
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Unit and API tests: every package but the end-to-end tests, which run
# on their own (they build and start the binary themselves).
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/test/e2e$$')

# In CI a missing openstack client fails the e2e tests instead of skipping
# them, and so does a missing tool (qemu, isoinfo, ...) or test guest image
# in the unit tests (KUMO_REQUIRE_TOOLS).
ifeq ($(CI),true)
E2E_ENV ?= KUMO_E2E_REQUIRE_CLI=1
export KUMO_REQUIRE_TOOLS=1
endif
E2E_FLAGS ?=
FUZZTIME ?= 20s
CONFORMANCE_ARGS ?=

.PHONY: help build up test vet lint fmt-check unit e2e fuzz conformance conformance-compute bench guest-image clean

help:
	@echo "make build        build bin/kumo (version $(VERSION))"
	@echo "make up           build, then run ./bin/kumo up --data-dir ./kumo-data in the foreground"
	@echo "make test         what CI runs: go vet, staticcheck, gofmt check, the test guest, go test -race, end-to-end tests"
	@echo "make e2e          only the end-to-end tests (test/e2e; need /usr/bin/openstack)"
	@echo "make fuzz         every Go fuzz target for FUZZTIME each (now $(FUZZTIME))"
	@echo "make conformance  Tempest identity + image + object_storage lists against a throw-away kumo (CONFORMANCE_ARGS=...)"
	@echo "make conformance-compute  Tempest's compute list with real guests (about 15 minutes; not in CI)"
	@echo "make bench        token workloads (loadgen, kumobench) vs Keystone, and image upload/download/list"
	@echo "make guest-image  build/guest/kumo-test.qcow2, the tiny test guest (guest/README.md; smoke test: guest/smoke.sh)"
	@echo "make cloud-image  build/guest/debian-cloud.qcow2, a Debian 12 cloud-init image from Debian packages (root, mmdebstrap; guest/README.md)"
	@echo "make clean        remove bin/ and build/ (./kumo-data, your cloud, is kept)"

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kumo ./cmd/kumo

up: build
	./bin/kumo up --data-dir ./kumo-data

test: vet lint fmt-check guest-image unit e2e

vet:
	$(GO) vet ./...

# staticcheck, pinned; fetched through the Go module proxy on first use.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) run $(STATICCHECK) ./...

fmt-check:
	@files=$$(gofmt -l $$(find . -name '*.go' -not -path './build/*' -not -path './bin/*' -not -path './.git/*')); \
	if [ -n "$$files" ]; then echo "gofmt: these files are not formatted (run gofmt -w on them):"; echo "$$files"; exit 1; fi; \
	echo "gofmt: all files formatted"

# The proxy's tests run twice: against nodes over HTTP (separate
# processes) and in process (kumo up).
unit:
	$(GO) test -race -timeout 15m $(UNIT_PKGS)
	KUMO_TEST_INPROCESS=1 $(GO) test -race -timeout 15m ./internal/objectstore/proxy/

e2e:
	$(E2E_ENV) $(GO) test -count=1 -timeout 20m $(E2E_FLAGS) ./test/e2e/

fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

conformance: build
	SHARED=$(SHARED) scripts/conformance.sh $(CONFORMANCE_ARGS)

conformance-compute: build guest-image
	COMPUTE=1 SHARED=$(SHARED) scripts/conformance.sh $(CONFORMANCE_ARGS)

bench: build
	SHARED=$(SHARED) bench/run.sh

# The compute tests' guest: Debian cloud kernel + busybox, built without root.
guest-image:
	guest/build.sh

# A real cloud-init cloud image (Debian 12) for by-hand tests: needs root
# and mmdebstrap; test/e2e/cloudimage_test.go boots it on kumo.
.PHONY: cloud-image
cloud-image:
	guest/debian-cloud.sh

clean:
	rm -rf bin build
