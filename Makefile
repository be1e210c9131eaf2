# dripr data pipeline — the two commands a new machine needs are `make run` and `make test`.
BUILD ?= build
# Warnings are errors in CI (CI=true is set there); locally they stay warnings.
WERROR ?= $(if $(CI),ON,OFF)
SANITIZE ?= OFF
JOBS ?= $(shell nproc)

.PHONY: deps build run test test-asan bench format clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DDRIPR_WERROR=$(WERROR) -DDRIPR_SANITIZE=$(SANITIZE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/dripr demo

test: build
	@scripts/run-tests.sh $(BUILD)

# The unit and contract suites under AddressSanitizer + UBSan (separate build tree).
test-asan: deps
	@$(MAKE) --no-print-directory build BUILD=build-asan SANITIZE=ON
	@scripts/run-tests.sh build-asan --unit-only

bench: build
	@scripts/run-bench.sh $(BUILD)

format:
	@find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-asan
