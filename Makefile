# picoclaw-manager. `make dev` runs it locally; `make test` runs every test.
SHELL := /bin/bash
export GOFLAGS ?= -mod=mod
export GOTOOLCHAIN ?= local

BIN := bin/picoclaw-manager
GO_PACKAGES := ./...
# Integration tests share one control plane per test binary; building it the
# first time takes minutes (see scripts/build-controlplane.sh).
TEST_TIMEOUT ?= 40m

.PHONY: all build controlplane dev test test-unit bench vet fmt clean

all: build

build:
	go build -o $(BIN) ./cmd/picoclaw-manager

controlplane:
	./scripts/build-controlplane.sh >/dev/null

dev: build
	@if [ -z "$$KUBECONFIG" ]; then ./scripts/build-controlplane.sh >/dev/null; fi
	go run ./scripts/devenv -manager $(BIN)

test: controlplane vet
	go test -count=1 -timeout $(TEST_TIMEOUT) $(GO_PACKAGES)

# Benchmarks against the local control plane; writes docs/benchmarks.md.
# They take about 15 minutes and are not part of `make test`.
bench: build controlplane
	go run ./scripts/bench -manager $(BIN) -out docs/benchmarks.md

test-unit:
	go test -count=1 -short $(GO_PACKAGES)

vet:
	go vet $(GO_PACKAGES)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .dev
