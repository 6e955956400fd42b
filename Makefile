# The front door. Every target installs what is missing, configures once and reuses its build
# folder (build/<preset>), so running a target again only rebuilds what changed.
SHELL := /bin/bash
.DEFAULT_GOAL := test

JOBS ?= $(shell nproc)
CCACHE := $(shell command -v ccache 2>/dev/null)
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR ?= $(HOME)/.cache/bulwark-ccache
LAUNCHER := $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE),)

.PHONY: deps test test-asan test-tsan bench-resilience demo format format-check consumer clean

deps:
	@bash scripts/deps.sh

define build_and_test
	cmake --preset $(1) $(LAUNCHER) >/dev/null
	cmake --build --preset $(1) -j $(JOBS)
	ctest --preset $(1)
endef

test: deps
	$(call build_and_test,dev)
	$(MAKE) --no-print-directory consumer

test-asan: deps
	$(call build_and_test,asan)

test-tsan: deps
	$(call build_and_test,tsan)

bench-resilience: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bench_resilience
	./build/release/bench/bench_resilience

demo: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target resilience_tour
	./build/release/examples/resilience_tour

# Installs the release build into build/stage and builds tests/consumer against it with
# find_package(bulwark CONFIG REQUIRED), as a user's project would.
consumer: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS) --target bulwark
	cmake --install build/release --prefix build/stage >/dev/null
	cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH=$(CURDIR)/build/stage $(LAUNCHER) >/dev/null
	cmake --build build/consumer
	./build/consumer/bulwark_consumer

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
