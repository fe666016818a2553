#!/usr/bin/env bash
# Static analysis of the C sources with cppcheck (warnings and portability),
# the false positives listed and explained in tests/cppcheck-suppressions.txt.
# Any other finding fails. usage: tests/static_analysis.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v cppcheck > /dev/null; then
    echo "static_analysis: skipped: no cppcheck"
    exit 77
fi
cd "$root"
cppcheck --enable=warning,portability --std=c11 --inline-suppr --error-exitcode=1 --quiet \
    --suppressions-list=tests/cppcheck-suppressions.txt -Icore -Icore/nn -Icore/data -Icore/spec -Iworker -Idriver \
    core worker driver bench tests/fuzz
echo "static_analysis: cppcheck found nothing"
