# The README's two commands:
#   make demo    install missing packages, build, run the Berlin demo into out/
#   make check   the same set-up, then every test (plain and ASan+UBSan builds)

BUILD      ?= build
ASAN_BUILD ?= build-asan
VALGRIND_BUILD ?= build-valgrind
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZERS    ?= csv values keys project
JOBS       ?= 2
KIEZ_GEODATA ?= $(abspath ../shared/geodata)
export KIEZ_GEODATA

.PHONY: all deps test-deps build demo check check-asan check-valgrind fuzz clean

all: build

deps:
	tools/install-deps

test-deps:
	tools/install-deps --test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	$(BUILD)/kiez run geodata/berlin/berlin.yml --out out/berlin
	$(BUILD)/kiez run geodata/berlin/mss2021.yml --out out/berlin

check: test-deps build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	$(MAKE) check-asan
	$(MAKE) check-valgrind

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (no recovery: the first report fails the test). Real-client tests are
# left out: they test files, not memory, and QGIS is not ours to sanitise;
# so are slow ones (the kill test: 100 killed runs test files, not memory).
check-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKZ_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) \
		-LE 'client|slow'

# The golden CLI cases again with kiez under valgrind memcheck (tests/valgrind-kiez.sh; third-party suppressions in
# tests/valgrind.supp): any error or definite leak fails the case.
check-valgrind:
	cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKZ_VALGRIND=ON >/dev/null
	cmake --build $(VALGRIND_BUILD) -j$(JOBS) --target kiez_cli
	ctest --test-dir $(VALGRIND_BUILD) --output-on-failure -j$(JOBS) -L valgrind

# libFuzzer harnesses (tests/fuzz/README.md), built with clang, each run for
# FUZZ_SECONDS on a scratch copy of its corpus, one after the other. A crash,
# leak or sanitizer report stops make; the reproducer is left as
# $(FUZZ_BUILD)/crash-<name>-*.
fuzz: test-deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DKZ_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(addprefix fuzz_,$(FUZZERS))
	set -e; for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$f; \
		cp tests/fuzz/corpus/$$f/* $(FUZZ_BUILD)/corpus/$$f/; \
		echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/tests/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$f- $(FUZZ_BUILD)/corpus/$$f; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(VALGRIND_BUILD) $(FUZZ_BUILD) out
