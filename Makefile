# Trail's make targets. `make test` is the one command that runs every test.
.PHONY: test build bench

test:
	scripts/test.sh

build:
	go build -o bin/trail ./cmd/trail

bench:
	go run ./cmd/trail bench
