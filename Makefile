# The two commands: `make demo` (set up, build, run the main job) and
# `make test` (set up, build, run every test). Everything else is a helper.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all bootstrap configure build test demo bench sanitize fuzz openclipart clean

all: build

bootstrap:
	bash scripts/bootstrap.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) $(CMAKE_FLAGS)

configure: bootstrap $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)

# The google-benchmark executables, then smoes against its PyTorch peer
# (scripts/peer_bench.sh), which runs on Debian's python3-torch: installed here
# only, not by `make demo` or `make test`.
bench: build
	EXTRA_PACKAGES=python3-torch bash scripts/bootstrap.sh
	bash scripts/bench.sh $(BUILD)

# Every test again with AddressSanitizer + UBSan, in its own build directory.
# A finding stops the test that hit it (halt_on_error), so ctest reports it.
SANITIZE_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
sanitize: bootstrap
	cmake -S . -B build-sanitize $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMOES_SANITIZE=ON
	cmake --build build-sanitize -j $(JOBS)
	$(SANITIZE_ENV) ctest --test-dir build-sanitize --output-on-failure -j $(JOBS)

# Every reader of outside input under libFuzzer + ASan + UBSan, each target
# until 100,000 executions (docs/RELIABILITY.md); `make test` runs a smoke of it.
fuzz: bootstrap
	FUZZ_BUILD=$(BUILD)/fuzz bash scripts/fuzz.sh full

# Real clip art no one here drew, as a COCO caption set (downloads ~150 MB once).
openclipart: build
	EXTRA_PACKAGES="openclipart-png openclipart-svg" bash scripts/bootstrap.sh
	$(BUILD)/smoes world openclipart --out data/openclipart

clean:
	rm -rf $(BUILD)
