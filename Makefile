# Trail's make targets. `make test` is the one command that runs every test.
.PHONY: test build bench release image

test:
	scripts/test.sh

# The commit goes into `trail version`; outside a git checkout the binary
# says "unknown".
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)

build:
	go build -ldflags "-X main.commit=$(COMMIT)" -o bin/trail ./cmd/trail

bench:
	go run ./cmd/trail bench

# Static linux amd64 and arm64 binaries, SHA256SUMS and CycloneDX SBOMs in
# dist/ (scripts/release.sh).
release:
	scripts/release.sh

# The container image trail:VERSION, FROM scratch (scripts/image.sh).
image:
	scripts/image.sh
