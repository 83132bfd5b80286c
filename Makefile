# gokprop build and test entry points.
GO ?= go
# Packages whose code runs goroutines; they are tested again under -race
# (those not yet present are left out).
RACE_DIRS = krbauth kprop kpropd internal/mitrealm
RACE_PKGS = $(foreach d,$(RACE_DIRS),$(if $(wildcard $(d)),./$(d)/...))

# The interop tests skip when MIT krb5 programs are missing, unless CI is
# set. "make test" sets it (unless already set) so that a run without MIT
# fails instead of passing by skipping.
CI ?= 1
export CI

.PHONY: all build test vet race interop

all: build

build:
	$(GO) build ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 $(RACE_PKGS)

# Only the tests against real MIT krb5 programs, verbosely.
interop:
	$(GO) test -count=1 -v ./interop

# The whole suite: static checks, every test (interop tests drive real MIT
# krb5 binaries), and the race detector on the concurrent packages.
test: vet
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) race
