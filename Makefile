# dripr data pipeline — the two commands a new machine needs are `make run` and `make test`.
BUILD ?= build
# Warnings are errors in CI (CI=true is set there); locally they stay warnings.
WERROR ?= $(if $(CI),ON,OFF)
SANITIZE ?= OFF
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# ccache, when installed, makes rebuilds in fresh clones and worktrees cheap; never required.
CCACHE := $(shell command -v ccache 2>/dev/null)
CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DDRIPR_WERROR=$(WERROR) -DDRIPR_SANITIZE=$(SANITIZE) \
	$(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE))

.PHONY: deps deps-build configure build run test test-asan fuzz bench image format clean

# Everything building and testing need; `deps-build` only what building needs (`make run`).
deps:
	@scripts/install-deps.sh

deps-build:
	@scripts/install-deps.sh --build-only

configure: deps-build
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

# TARGETS: build only these (default: everything).
build: configure
	@cmake --build $(BUILD) -j $(JOBS) $(if $(TARGETS),--target $(TARGETS))

# The demo needs only the `dripr` binary: no test or benchmark is built for it.
run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target dripr
	./$(BUILD)/dripr demo

# In CI (CI=true) the unit and contract suites also run under AddressSanitizer + UBSan.
# Every libFuzzer target is built (build-fuzz) and run for a few seconds over the corpus kept
# in tests/fuzz/corpus/ (docs/decisions/fuzzing.md), from a fixed seed (FUZZ_SEED) so a
# finding reproduces with the same command.
test: deps build
	@scripts/run-tests.sh $(BUILD)
	@FUZZ_SEED=$(FUZZ_SEED) scripts/fuzz.sh --smoke $(FUZZ_SMOKE_SECONDS)
	@$(if $(CI),$(MAKE) --no-print-directory test-asan,true)

# Longer fuzzing: `make fuzz TARGET=sqs_reply_fuzz FUZZ_SECONDS=600` (scripts/fuzz.sh --list names
# the targets); without TARGET, every target for FUZZ_SECONDS (default 60) each.
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_SEED ?= 1
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(if $(TARGET),scripts/fuzz.sh $(TARGET) $(FUZZ_SECONDS),scripts/fuzz.sh --smoke $(FUZZ_SECONDS))

# The unit and contract suites under AddressSanitizer + UBSan (separate build tree; -O0 keeps
# its build short, the suites take about as long as in the normal build). Only the unit test
# binaries and dripr are built there (target unit_tests).
test-asan: deps
	@$(MAKE) --no-print-directory build BUILD=build-asan SANITIZE=ON BUILD_TYPE=Debug TARGETS=unit_tests
	@scripts/run-tests.sh build-asan --unit-only

# The script builds only the programs it runs (dripr, the ceilings, the poller, the fake).
bench: configure
	@scripts/run-bench.sh $(BUILD)

# The OCI image (deploy/image.sh: buildah, no daemon) as an archive a registry push can take
# (`podman load -i` or `skopeo copy oci-archive:…` take it). buildah's store stays in the
# build directory, so no system-wide container storage is touched.
image: configure
	@cmake --build $(BUILD) -j $(JOBS) --target dripr
	@BUILDAH_ROOT=$(abspath $(BUILD))/buildah deploy/image.sh $(BUILD)/dripr $(BUILD)/dripr-image.oci.tar

format:
	@find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-asan build-fuzz
