#!/usr/bin/env bash
# Build the libFuzzer targets with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on) and run each for SECONDS, from seed corpora
# of the shipped sweeps and the test configs. A crash, leak, assertion or
# timeout fails the run; its input is kept in WORKDIR/crashes/.
#
# usage: tests/fuzz/run_fuzzers.sh WORKDIR SECONDS
set -euo pipefail
if ! command -v clang > /dev/null; then
    echo "run_fuzzers: skipped: no clang (Debian's clang and libclang-rt-14-dev provide libFuzzer)"
    exit 77
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
workdir="$1"
seconds="$2"
mkdir -p "$workdir/crashes"
cd "$workdir"

includes=(-I"$root/core" -I"$root/core/nn" -I"$root/core/data" -I"$root/core/spec" -I"$root/worker" -I"$root/driver"
          -I/usr/include/x86_64-linux-gnu/openblas-pthread)
core=("$root"/core/*.c "$root"/core/nn/*.c "$root"/core/data/*.c "$root"/core/spec/*.c)
flags=(-std=c11 -D_POSIX_C_SOURCE=200809L -DGROKSWEEP_VERSION='"fuzz"' -g -O1 -ffp-contract=off
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
libs=(-lopenblas -lcjson -lz -lm)

clang "${flags[@]}" "${includes[@]}" "$here/fuzz_sweep.c" "${core[@]}" "${libs[@]}" -o fuzz_sweep
clang "${flags[@]}" "${includes[@]}" "$here/fuzz_journal.c" "$root/driver/journal.c" "$root/worker/record.c" \
      "${core[@]}" "${libs[@]}" -o fuzz_journal

rm -rf corpus_sweep corpus_journal
mkdir -p corpus_sweep corpus_journal
cp "$root"/sweeps/*.json "$root"/tests/data/*.json corpus_sweep/
printf '' > corpus_journal/empty
head -c 300 /dev/urandom > corpus_journal/noise

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for target in fuzz_sweep fuzz_journal; do
    max_len=$([ "$target" = fuzz_sweep ] && echo 16384 || echo 4096)
    if ! ./"$target" "corpus_${target#fuzz_}" -max_total_time="$seconds" -max_len="$max_len" -timeout=20 \
            -rss_limit_mb=2048 -artifact_prefix="crashes/$target-" -print_final_stats=1 > "$target.log" 2>&1; then
        echo "run_fuzzers: $target failed; its input is in $workdir/crashes/ and its log in $workdir/$target.log:"
        grep -E "ERROR|SUMMARY|runtime error|Assertion|check failed" "$target.log" | head -20
        status=1
    else
        runs=$(grep -E "stat::number_of_executed_units" "$target.log" | awk '{print $2}')
        echo "run_fuzzers: $target: ${runs:-?} inputs in ${seconds} s, no failure"
    fi
done
exit $status
