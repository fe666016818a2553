#!/usr/bin/env bash
# Static analysis of the C sources: cppcheck (warnings and portability; the
# false positives listed and explained in tests/cppcheck-suppressions.txt)
# on everything, and clang's static analyzer through clang-tidy (checks and
# the reasons for those left out in tests/clang-tidy.yaml) on the product
# code, compiled as BUILD_DIR's compile_commands.json says. Any finding
# fails. usage: tests/static_analysis.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$(cd "${1:?usage: tests/static_analysis.sh BUILD_DIR}" && pwd)"
cd "$root"
tidy="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
if ! command -v cppcheck > /dev/null || [ -z "$tidy" ]; then
    echo "static_analysis: skipped: needs cppcheck and clang-tidy (.ci/setup --tests installs them)"
    exit 77
fi
if [ ! -f "$build_dir/compile_commands.json" ]; then
    echo "static_analysis: no $build_dir/compile_commands.json (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)" >&2
    exit 1
fi
cppcheck --enable=warning,portability --std=c11 --inline-suppr --error-exitcode=1 --quiet \
    --suppressions-list=tests/cppcheck-suppressions.txt -Icore -Icore/nn -Icore/data -Icore/spec -Iworker -Idriver \
    core worker driver bench tests/fuzz
echo "static_analysis: cppcheck found nothing"
# one clang-tidy per file, two at a time; a finding makes xargs exit non-zero
find core worker driver -name '*.c' -print0 | sort -z |
    xargs -0 -P2 -n1 "$tidy" -p "$build_dir" --config-file=tests/clang-tidy.yaml --quiet 2> /dev/null
echo "static_analysis: clang-tidy (clang static analyzer) found nothing"
