# Trail's make targets. `make test` is the one command that runs every test.
.PHONY: test build bench

test:
	scripts/test.sh

# The commit goes into `trail version`; outside a git checkout the binary
# says "unknown".
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)

build:
	go build -ldflags "-X main.commit=$(COMMIT)" -o bin/trail ./cmd/trail

bench:
	go run ./cmd/trail bench
