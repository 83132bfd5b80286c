# gokprop build and test entry points.
GO ?= go
# Packages whose code runs goroutines; they are tested again under -race
# (those not yet present are left out).
RACE_DIRS = krbauth krbkdc kprop cmd/kprop kpropd oncrpc iprop iprop/replica ulog gsskrb5 rpcsecgss kiprop internal/mitrealm internal/netctx cmd/kpropd
RACE_PKGS = $(foreach d,$(RACE_DIRS),$(if $(wildcard $(d)),./$(d)/...))

# The interop tests skip when MIT krb5 programs are missing, unless CI is
# set. "make test" sets it (unless already set) so that a run without MIT
# fails instead of passing by skipping.
CI ?= 1
export CI

.PHONY: all build test vet race fuzz interop reliability demo demo-iprop man bench bench-propagation bench-large bench-fanout bench-iprop

all: build

build:
	$(GO) build ./...

# staticcheck (a tool dependency in go.mod, fetched through the module
# proxy) runs its default checks except the style checks of package
# comments (ST1000), names (ST1003) and error strings (ST1005): our error
# texts are MIT's, capitals and all.
STATICCHECK_CHECKS = inherit,-ST1000,-ST1003,-ST1005

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck -checks '$(STATICCHECK_CHECKS)' ./...

race:
	$(GO) test -race -count=1 $(RACE_PKGS)

# Every fuzz target, FUZZTIME each, serially, from its committed corpus
# (see scripts/fuzz.sh); make test runs it.
FUZZTIME ?= 2s
fuzz:
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" ./scripts/fuzz.sh

# The reliability group alone (make test runs it too): one test per fault
# family against our kpropd and MIT's, and the table of what each did.
reliability:
	@log=$$(mktemp); $(GO) test -count=1 -v -run '^TestReliability$$' ./interop >$$log 2>&1; status=$$?; \
	grep -o 'RELIABILITY .*' $$log | sort; \
	if [ $$status -ne 0 ]; then grep -E -- '--- FAIL|_test.go' $$log | grep -v RELIABILITY; fi; \
	rm -f $$log; exit $$status

# Only the tests against real MIT krb5 programs (incremental propagation's
# in interop/incremental too), verbosely.
interop:
	$(GO) test -count=1 -v ./interop/...

# The whole suite: static checks, every test (interop tests drive real MIT
# krb5 binaries), the race detector on the concurrent packages, and a few
# seconds of every fuzz target.
test: vet
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) race
	$(MAKE) fuzz

# The README's first command: a throwaway realm with a primary and a
# secondary KDC, a propagation with our kprop and kpropd, then a kinit
# answered by the secondary (installs MIT krb5 with apt-get if missing;
# see scripts/demo.sh).
demo:
	GO="$(GO)" ./scripts/demo.sh

# "make bench" runs the benchmarks below, one after the other; none is
# part of "make test".
bench: bench-propagation bench-fanout

# Propagation throughput, CPU and memory of MIT's kprop/kpropd against
# ours, alternated in one run (see scripts/bench.sh); bench-large does the
# same with a dump over 4 GiB (about 16 GiB of free disk).
bench-propagation:
	GO="$(GO)" ./scripts/bench.sh

bench-large:
	GO="$(GO)" ./scripts/bench.sh large

# Incremental propagation: MIT kadmind serving iprop on kdc01, our kpropd
# in iprop mode on kdc02; a full resync, then a principal added on the
# primary gets its ticket from kdc02's KDC (see scripts/demo-iprop.sh).
demo-iprop:
	GO="$(GO)" ./scripts/demo-iprop.sh

# Incremental propagation speed, MIT kpropd against ours, on a primary of
# N principals (default 1000000; takes minutes; see scripts/iprop-bench.sh).
N ?= 1000000
bench-iprop:
	GO="$(GO)" ./scripts/iprop-bench.sh $(N)

# Check that the manual pages render without a groff warning; read them
# with "man -l man/kprop.8".
man:
	@for p in man/*.8; do \
		out=$$(groff -mandoc -Tutf8 -ww -z "$$p" 2>&1); \
		if [ -n "$$out" ]; then echo "$$p:"; echo "$$out"; exit 1; fi; \
		echo "$$p: OK"; \
	done

# The fan-out benchmark: our kprop to three replicas at once against MIT's
# kprop to each in turn, replicas "loading" for 2 s each; prints the ratio
# and fails below the target of 2.5 (see scripts/bench-fanout.sh). Part of
# "make bench", never of "make test".
bench-fanout:
	GO="$(GO)" ./scripts/bench-fanout.sh

