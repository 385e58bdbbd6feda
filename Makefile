# The two entry points of a fresh Debian 12 machine (README):
#   make demo   install what is missing, build, and run the tour of the library (examples/)
#   make test   install what is missing, build, and run every test with ctest
# Both use the CMake preset PRESET (default: `default` = clang++-16, RelWithDebInfo, -Werror) and build
# into out/$(PRESET). Other targets: make build, make ci (.ci/run: sanitizers, g++, install check),
# make clean. Dependencies: scripts/ensure_deps.sh (apt-get as root; otherwise prints the sudo line).
PRESET ?= default
BUILD_DIR := out/$(PRESET)

# ccache is used when installed. Evaluated inside the recipes (not at parse time) so that a fresh
# machine uses it as soon as ensure_deps.sh has installed it.
CCACHE_FLAG = $$(command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: all deps configure build demo test ci clean

all: build

deps:
	@scripts/ensure_deps.sh

configure: deps
	@mkdir -p out && cmake --preset $(PRESET) $(CCACHE_FLAG) >$(BUILD_DIR).configure.log 2>&1 \
	  || { cat $(BUILD_DIR).configure.log; exit 1; }

build: configure
	@cmake --build --preset $(PRESET)

demo: configure
	@cmake --build --preset $(PRESET) --target demo

test: build
	@ctest --preset $(PRESET)

ci:
	@bash .ci/run

clean:
	rm -rf out
