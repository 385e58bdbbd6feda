#!/usr/bin/env bash
# Makes sure the Debian 12 packages this project builds with are installed.
#
# Used by `make demo`, `make test` and .ci/run. A machine that already has everything is checked
# with dpkg-query only (no apt, no network). Otherwise: as root, `apt-get update` + `apt-get install
# -y` of exactly the missing packages; as any other user, print the sudo line to run and fail.
#
# Usage: scripts/ensure_deps.sh          check/install the packages
#        scripts/ensure_deps.sh --list   print the package list and exit
set -euo pipefail

# Why each package is here:
#   cmake ninja-build make pkg-config   the build (CMake >= 3.25, Ninja generator)
#   clang-16 libclang-rt-16-dev         the primary compiler and its sanitizer runtimes (ASan/UBSan/TSan)
#   clang-tidy-19                       the ctest lint.clang_tidy (tools/clang-tidy/asyncio.clang-tidy needs
#                                       clang-tidy 17+; Debian 12's clang-tidy-16 lacks the coroutine checks)
#   g++                                 g++ 12, the second compiler CI builds and tests with
#   libgtest-dev libgmock-dev           the unit tests
#   libbenchmark-dev                    bench/
#   liburing-dev libssl-dev libfmt-dev  io_uring backend, TLS, formatting (docs/toolchain.md §7-8)
#   openssl                             the openssl command: TLS tests (s_server/s_client peers), examples/tls_client
#   python3                             scripts and the peer benchmark harness
#   python3-aiofiles                    bench/log_writer.sh's Python peers (aiofiles on asyncio)
#   gnuplot-nox                         examples/calc_pi's log-log plot of the per-job overhead
#   ccache                              faster rebuilds (used automatically when present)
#   git                                 the CI clones and the version stamp
PACKAGES=(
  cmake ninja-build make pkg-config
  clang-16 libclang-rt-16-dev clang-tidy-19
  g++
  libgtest-dev libgmock-dev
  libbenchmark-dev
  liburing-dev libssl-dev libfmt-dev
  openssl
  python3
  python3-aiofiles
  gnuplot-nox
  ccache
  git
)

if [[ "${1:-}" == "--list" ]]; then
  echo "${PACKAGES[*]}"
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg -s also succeeds for removed-but-configured packages; ask for the exact state instead.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "ensure_deps: missing Debian packages: ${missing[*]}" >&2
if [[ "$(id -u)" != 0 ]]; then
  echo "ensure_deps: not root; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
