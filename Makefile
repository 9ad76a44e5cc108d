# The README's two commands:
#   make demo    install missing packages, build, run the Berlin demo into out/
#   make check   the same set-up, then every test (plain and ASan+UBSan builds)

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
KIEZ_GEODATA ?= $(abspath ../shared/geodata)
export KIEZ_GEODATA

.PHONY: all deps test-deps build demo check check-asan fuzz clean

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

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (no recovery: the first report fails the test). Real-client tests are
# left out: they test files, not memory, and QGIS is not ours to sanitise.
check-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKZ_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) -LE client

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) out
