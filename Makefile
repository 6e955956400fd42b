# The front door. Every target installs what is missing, configures once and reuses its build
# folder (build/<preset>), so running a target again only rebuilds what changed.
SHELL := /bin/bash
.DEFAULT_GOAL := test

JOBS ?= $(shell nproc)
CCACHE := $(shell command -v ccache 2>/dev/null)
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR ?= $(HOME)/.cache/bulwark-ccache
# Paths relative to the checkout, so that clones and worktrees share cached objects; four presets
# of objects need more than ccache's default 5 GB.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1
export CCACHE_MAXSIZE ?= 20G
LAUNCHER := $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE),)
# Under CI (the CI variable set) the dev build carries no debug information: nobody attaches a
# debugger there, and it saves a fifth of the compile time.
PRESET_FLAGS_dev := $(if $(CI),-DCMAKE_CXX_FLAGS_DEBUG=-g0,)

.PHONY: deps test test-asan test-tsan soak fuzz bench-resilience bench-observe bench-redis bench-http demo install format format-check consumer clean

deps:
	@bash scripts/deps.sh

# ctest runs 4 tests at a time (the presets' `jobs`): the integration tests mostly wait for
# servers and timeouts, using about half a core between them at 2.
define build_and_test
	cmake --preset $(1) $(LAUNCHER) $(PRESET_FLAGS_$(1)) >/dev/null
	cmake --build --preset $(1) -j $(JOBS)
	ctest --preset $(1)
endef

test: deps
	$(call build_and_test,dev)
	$(MAKE) --no-print-directory consumer

# The sanitizer presets compile with line tables only (-g1), and ASan's at -O0: a third of the
# compile time of -O1 -g, for the same findings with file and line in every report. TSan keeps
# -O1, without which it runs the tests several times slower.
test-asan: deps
	$(call build_and_test,asan)

test-tsan: deps
	$(call build_and_test,tsan)

# Mixed HTTP + Redis traffic through a ClientManager for DURATION while faults switch on and off
# at random (seeded: SOAK_ARGS="--seed 7"), against a redis-server and an HTTP server on
# loopback. Prints latency, outcomes, breaker transitions, retries, lost acknowledged writes,
# memory and descriptors; fails when a bound it prints is broken. Built in the dev preset (the
# one `make test` builds), so CI's soak adds no compilation of the library.
DURATION ?= 5m
SOAK_ARGS ?=
soak: deps
	cmake --preset dev $(LAUNCHER) $(PRESET_FLAGS_dev) >/dev/null
	cmake --build --preset dev -j $(JOBS) --target bulwark_soak
	./build/dev/tests/bulwark_soak --duration $(DURATION) $(SOAK_ARGS)

# libFuzzer targets (tests/fuzz, a clang-only project of its own) built in build/fuzz and run for
# FUZZ_SECONDS each. Each runs on a scratch copy of its committed seed corpus
# (tests/fuzz/corpus/<corpus>) kept in build/fuzz/corpus, so that runs never grow the repository
# but later runs start from what earlier ones found. Crashing inputs land in build/fuzz/artifacts.
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= /usr/bin/clang++
FUZZERS := resp_parser_fuzz:resp config_loader_fuzz:config http_response_fuzz:http
# Optimisation and debug information of the fuzz build. CI, which runs each target for seconds,
# builds with FUZZ_OPT="-O1 -gline-tables-only": about half the compile time.
FUZZ_OPT ?= -O2 -g

fuzz: deps
	cmake -S tests/fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(FUZZ_OPT)" $(LAUNCHER) >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	@set -e; for entry in $(FUZZERS); do \
	  name=$${entry%%:*}; corpus=$${entry##*:}; \
	  mkdir -p build/fuzz/corpus/$$corpus build/fuzz/artifacts; \
	  cp tests/fuzz/corpus/$$corpus/* build/fuzz/corpus/$$corpus/; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  ./build/fuzz/$$name build/fuzz/corpus/$$corpus -dict=tests/fuzz/$$name.dict \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/artifacts/$$name- ; \
	done

bench-resilience: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bench_resilience
	./build/release/bench/bench_resilience

bench-observe: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bench_observe
	./build/release/bench/bench_observe

# The Redis client beside hiredis and redis-benchmark against a redis-server the program starts on
# a free loopback port. REDIS_BENCH_ARGS passes options (--requests N, --seconds S, ...).
REDIS_BENCH_ARGS ?=
bench-redis: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bench_redis
	./build/release/bench/bench_redis $(REDIS_BENCH_ARGS)

# The HTTP client beside libcurl and wrk against an nginx the program starts on a free loopback
# port. HTTP_BENCH_ARGS passes options (--concurrency N, --seconds S, ...).
HTTP_BENCH_ARGS ?=
bench-http: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bench_http
	./build/release/bench/bench_http $(HTTP_BENCH_ARGS)

# A shared circuit breaker beside a local one (ns per call), and how long a transition takes to
# reach another instance through a redis-server the program starts (p50/p99).
# SHARED_BENCH_ARGS passes options (--calls N, --transitions N).
SHARED_BENCH_ARGS ?=
.PHONY: bench-shared
bench-shared: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bench_shared
	./build/release/bench/bench_shared $(SHARED_BENCH_ARGS)

# `bulwark demo`: a real redis-server and an HTTP service the program starts, made slow, failing,
# down and restarted while a live view shows what the clients do (about a minute). DEMO_ARGS passes
# options (--duration 20s, --admin 127.0.0.1:9090).
DEMO_ARGS ?=
demo: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bulwark_cli
	./build/release/apps/bulwark/bulwark demo $(DEMO_ARGS)

# Installs the release build under PREFIX: headers, the library, its CMake package (for
# find_package(bulwark)) and the bulwark program. A system prefix needs root: sudo make install.
PREFIX ?= /usr/local
install: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bulwark bulwark_cli
	cmake --install build/release --prefix $(PREFIX)

# Installs the dev build (already built by `make test`) into build/stage and builds tests/consumer
# against it with find_package(bulwark CONFIG REQUIRED), as a user's project would.
consumer: deps
	cmake --preset dev $(LAUNCHER) $(PRESET_FLAGS_dev) >/dev/null
	cmake --build --preset dev -j $(JOBS) --target bulwark
	cmake --install build/dev --prefix build/stage >/dev/null
	cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH=$(CURDIR)/build/stage $(LAUNCHER) >/dev/null
	cmake --build build/consumer
	./build/consumer/bulwark_consumer

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
