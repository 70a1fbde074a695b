#!/bin/sh
# Build the libFuzzer targets with clang and run each for $1 seconds (default 30).
# Used by `make fuzz` (long run) and by `make check` for a short smoke run.
# Fails (exit 1, saying why) when clang or its libFuzzer runtime is missing:
# `make deps` installs both (clang, libclang-rt-14-dev).
set -eu
secs=${1:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${BUILD:-$src/build}/fuzz
CC=${FUZZ_CC:-clang}

if ! command -v "$CC" >/dev/null 2>&1; then
        echo "fuzz: FAILED: $CC not found (run 'make deps' as root: it installs clang and libclang-rt-14-dev)" >&2
        exit 1
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' |
        "$CC" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
        echo "fuzz: FAILED: $CC cannot link -fsanitize=fuzzer (no libFuzzer runtime; run 'make deps' as root: it installs libclang-rt-14-dev)" >&2
        exit 1
fi

mkdir -p "$out"
cflags="-std=gnu11 -D_GNU_SOURCE -I$src -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -DSEALRUN_VERSION=\"fuzz\" -DSEALRUN_DATADIR=\"/nonexistent\" $(pkg-config --cflags libseccomp libcap libsodium jansson)"
libs="$(pkg-config --libs libseccomp libcap libsodium jansson)"
# the parsers and what they call: every policy/ source (small, no launcher code)
policy_src=$(ls "$src"/policy/*.c)

# every tests/fuzz/fuzz_NAME.c is a target; its seeds (if any) are in tests/fuzz/seeds/NAME/
targets=$(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
# policy/ compiled once (two at a time) for every target, not once per target
mkdir -p "$out/obj"
export CC cflags out
# shellcheck disable=SC2086
printf '%s\n' $policy_src | xargs -P 2 -I{} sh -c \
        'f=$1; $CC $cflags -c "$f" -o "$out/obj/$(basename "$f" .c).o"' sh {}
policy_obj=$(for f in $policy_src; do echo "$out/obj/$(basename "$f" .c).o"; done)
for target in $targets; do
        # shellcheck disable=SC2086
        $CC $cflags -o "$out/fuzz_$target" "$src/tests/fuzz/fuzz_$target.c" $policy_obj $libs
done

# seed corpora from the committed sample
for target in $targets; do
        mkdir -p "$out/corpus_$target"
        [ -d "$src/tests/fuzz/seeds/$target" ] && cp "$src/tests/fuzz/seeds/$target/"* "$out/corpus_$target/" 2>/dev/null || true
done
cp "$src/tests/data/sample.sealed" "$out/corpus_envelope/sample"
cp "$src/tests/data/sample.plain.json" "$out/corpus_plaintext/sample"
[ -d "$src/tests/fuzz/dict" ] && dict_opt=1 || dict_opt=

status=0
for target in $targets; do
        echo "fuzz: fuzz_$target for ${secs}s"
        set -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1
        [ -n "$dict_opt" ] && [ -f "$src/tests/fuzz/dict/json.dict" ] && set -- "$@" -dict="$src/tests/fuzz/dict/json.dict"
        if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./fuzz_$target" "$@" "corpus_$target" >"fuzz_$target.log" 2>&1); then
                echo "fuzz: fuzz_$target FAILED (see $out/fuzz_$target.log)"
                tail -n 30 "$out/fuzz_$target.log"
                status=1
        else
                grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$out/fuzz_$target.log" | tail -n 1
        fi
done
exit $status
