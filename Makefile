# gokprop build and test entry points.
GO ?= go
# Packages whose code runs goroutines; they are tested again under -race.
RACE_PKGS = ./krbauth/... ./kprop/... ./kpropd/...

.PHONY: all build test vet race

all: build

build:
	$(GO) build ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 $(RACE_PKGS)

# The whole suite: static checks, every test (interop tests drive real MIT
# krb5 binaries), and the race detector on the concurrent packages.
test: vet
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) race
