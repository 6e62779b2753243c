#!/usr/bin/env bash
# make bench: pfutures beside GNU xargs, GNU parallel and a C spawn loop (the
# physical limit), in the same hyperfine runs; prints medians and ratios and
# writes them to bench/RESULTS.md. Needs root (or the tools) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v parallel >/dev/null || need+=(parallel)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
    else echo "bench: install ${need[*]} (sudo apt-get install -y ${need[*]})" >&2; exit 1; fi
fi
# The binary `make` built (fully static), as users get it.
PF=${PFUTURES_BIN:-.build/release/pfutures}
[ -x "$PF" ] || { echo "bench: no $PF; run make first" >&2; exit 1; }
PF=$(realpath "$PF")
OUT=bench/out
mkdir -p "$OUT"
cc -O2 -o "$OUT/spawn_limit" bench/spawn_limit.c
seq 2000 > "$OUT/2000.txt"
seq 2000 | sed 's/.*/echo & >\/dev\/null/' > "$OUT/2000-cmds.txt"
seq 200 | sed 's/.*/0.05/' > "$OUT/200x0.05.txt"
seq 500 > "$OUT/500.txt"
RUNS=${BENCH_RUNS:-5}  # runs of each command (interleaved rows: rounds of one run)

# hyperfine NAME CMD... : one comparison, JSON kept for the table.
bench() {
    local name=$1; shift
    hyperfine -S sh --warmup 1 --runs "$RUNS" --export-json "$OUT/$name.json" "$@" >/dev/null 2>&1 \
        || { echo "bench: $name failed" >&2; return 1; }
}

# NAME ROUNDS 'HYPERFINE OPTIONS' LABEL CMD [LABEL CMD]...: the commands
# compared in ROUNDS hyperfine runs, in turn forwards and backwards, so that
# a machine whose speed drifts (a shared VM does) weighs on every command
# alike; the report pools the times of all rounds.
alternate() {
    local name=$1 rounds=$2 options=$3 round
    shift 3
    local -a forwards=() backwards=()
    while [ $# -gt 0 ]; do forwards+=(-n "$1" "$2"); backwards=(-n "$1" "$2" "${backwards[@]}"); shift 2; done
    rm -f "$OUT/$name".json "$OUT/$name".r*.json
    for round in $(seq "$rounds"); do
        local -a order=("${forwards[@]}")
        [ $((round % 2)) = 0 ] && order=("${backwards[@]}")
        # shellcheck disable=SC2086 # the options are words
        hyperfine $options --export-json "$OUT/$name.r$round.json" "${order[@]}" >/dev/null 2>&1 \
            || { echo "bench: $name failed" >&2; return 1; }
    done
}

# Start-up of the static binary, with no shell between hyperfine and the
# command (-N), 300 runs each in six alternating rounds (each takes about a
# millisecond): empty input, and one job, beside xargs.
echo 1 > "$OUT/1.txt"
alternate startup-empty 6 "-N --warmup 10 --runs 50" \
    pfutures "$PF run -a /dev/null true" \
    xargs "xargs -a /dev/null -r true"
alternate startup-one 6 "-N --warmup 10 --runs 50" \
    pfutures "$PF run -a $OUT/1.txt true" \
    xargs "xargs -a $OUT/1.txt true"

# The spawn rows against the C loop, one run a round, interleaved.
alternate true-j2 "$RUNS" "-S sh --runs 1" \
    pfutures "$PF run -j2 true < $OUT/2000.txt" \
    xargs "xargs -P2 -n1 true < $OUT/2000.txt" \
    parallel "parallel --will-cite -j2 true < $OUT/2000.txt" \
    limit "$OUT/spawn_limit 2 exec true < $OUT/2000.txt"
bench true-j8 \
    -n pfutures "$PF run -j8 true < $OUT/2000.txt" \
    -n xargs "xargs -P8 -n1 true < $OUT/2000.txt" \
    -n limit "$OUT/spawn_limit 8 exec true < $OUT/2000.txt"
alternate shell-j2 "$RUNS" "-S sh --runs 1" \
    pfutures "$PF run -j2 < $OUT/2000-cmds.txt" \
    parallel "parallel --will-cite -j2 < $OUT/2000-cmds.txt" \
    limit "$OUT/spawn_limit 2 shell < $OUT/2000-cmds.txt"
bench startup \
    -n pfutures "echo true | $PF run" \
    -n xargs "echo true | xargs -n1 true" \
    -n parallel "echo true | parallel --will-cite"
bench sleep-j32 \
    -n pfutures "$PF run -j32 sleep < $OUT/200x0.05.txt" \
    -n xargs "xargs -P32 -n1 sleep < $OUT/200x0.05.txt" \
    -n parallel "parallel --will-cite -j32 sleep < $OUT/200x0.05.txt"
printf 'i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo "line $i of job $1"; done\n' > "$OUT/lines200.sh"
bench output-500x200 \
    -n pfutures "$PF run -j2 sh $OUT/lines200.sh < $OUT/500.txt > /dev/null" \
    -n xargs "xargs -P2 -n1 sh $OUT/lines200.sh < $OUT/500.txt > /dev/null" \
    -n parallel "parallel --will-cite -j2 sh $OUT/lines200.sh < $OUT/500.txt > /dev/null"
lines=$("$PF" run -j2 sh "$OUT/lines200.sh" < "$OUT/500.txt" | wc -l)

# Packing: removing 100,000 files, as many names per rm as fit (-X; xargs
# packs by default), two at a time; the files are made again before each run,
# in tmpfs when there is one (a disk directory of 100k files is slow to fill).
PACK=$OUT/pack
[ -d /dev/shm ] && [ -w /dev/shm ] && PACK=/dev/shm/pfutures-bench-pack
seq -f "$PACK/file-%06g.txt" 100000 | tr '\n' '\0' > "$OUT/pack-names.bin"
make_files="rm -rf $PACK && mkdir -p $PACK && xargs -0 touch < $OUT/pack-names.bin"
bench pack-rm --prepare "$make_files" \
    -n pfutures "$PF run -0 -X -j2 rm < $OUT/pack-names.bin" \
    -n xargs "xargs -0 -P2 rm < $OUT/pack-names.bin" \
    -n parallel "parallel --will-cite -0 -X -j2 rm < $OUT/pack-names.bin"
rm -rf "$PACK"

alternate pool-true "$RUNS" "-S sh --runs 1" \
    thread "$PF run -j2 true < $OUT/2000.txt" \
    process "$PF run --pool process -j2 true < $OUT/2000.txt" \
    process-chunk16 "$PF run --pool process -j2 --chunksize 16 true < $OUT/2000.txt"

# Remote workers: 2000 x true over two loopback ssh hosts and over the
# two-node test Slurm (salloc included), beside the local process pool, one
# job slot per host (2 in all, as -j2); GNU parallel -S on the same hosts
# with 40 jobs (it opens one ssh connection per job).
REMOTE=$OUT/remote
rm -rf "$REMOTE" && mkdir -p "$REMOTE"
stop_remote() {
    [ -f "$REMOTE/sshd/sshd.pid" ] && kill "$(cat "$REMOTE/sshd/sshd.pid")" 2>/dev/null
    scripts/test-slurm.sh --stop "$REMOTE/slurm"
}
trap stop_remote EXIT
scripts/test-sshd.sh "$REMOTE/sshd" >/dev/null
scripts/test-slurm.sh "$REMOTE/slurm" >/dev/null
SSHCFG="ssh -F $REMOTE/sshd/ssh_config"
seq 40 > "$OUT/40.txt"
bench remote-true \
    -n process "$PF run --pool process -j2 true < $OUT/2000.txt" \
    -n ssh "$PF run -S 1/h1,1/h2 --ssh '$SSHCFG' --remote-pfutures $PF true < $OUT/2000.txt" \
    -n slurm "SLURM_CONF=$REMOTE/slurm/slurm.conf salloc -N2 --quiet $PF run --slurm -j1 true < $OUT/2000.txt"
bench remote-40 \
    -n pfutures "$PF run -S 1/h1,1/h2 --ssh '$SSHCFG' --remote-pfutures $PF true < $OUT/40.txt" \
    -n parallel "parallel --will-cite -S 1/h1,1/h2 --ssh '$SSHCFG' true < $OUT/40.txt" \
    -n local "$PF run --pool process -j2 true < $OUT/40.txt"
stop_remote
trap - EXIT

# --pipe: 2 GiB of text lines through `cat` jobs in 1 MiB blocks (output to
# /dev/null through pfutures), beside GNU parallel and `cat | cat` (the
# limit of moving the bytes through one pipe); --pipepart the same from the file.
PIPEFILE=$OUT/pipe-2g.txt
# (head ends base64 early on purpose: its SIGPIPE is no failure here)
[ "$(stat -c %s "$PIPEFILE" 2>/dev/null)" = 2147483648 ] ||
    { head -c 1600000000 /dev/urandom | base64 -w 100 | head -c 2147483648 > "$PIPEFILE" || true; }
bench pipe \
    -n pfutures "$PF run --pipe --block 1M cat < $PIPEFILE > /dev/null" \
    -n parallel "parallel --will-cite --pipe --block 1M cat < $PIPEFILE > /dev/null" \
    -n cat "cat < $PIPEFILE | cat > /dev/null"
bench pipepart \
    -n pfutures "$PF run --pipepart -a $PIPEFILE --block 1M cat > /dev/null" \
    -n pfutures-10M "$PF run --pipepart -a $PIPEFILE --block 10M cat > /dev/null" \
    -n parallel "parallel --will-cite --pipepart -a $PIPEFILE --block 1M cat > /dev/null" \
    -n cat "cat $PIPEFILE | cat > /dev/null"
rm -f "$PIPEFILE"

# Copy: 5000 files of 4 KiB and 20 of 50 MiB, fresh destinations each run;
# written data is synced first so no benchmark pays for another's writeback.
rm -rf "$OUT/tree" && mkdir -p "$OUT/tree/small" "$OUT/tree/large"
python3 - "$OUT/tree" <<'PY'
import os, sys
root = sys.argv[1]
block = os.urandom(4096)
for i in range(5000):
    with open(f"{root}/small/f{i}", "wb") as f: f.write(block)
big = os.urandom(1 << 20) * 50
for i in range(20):
    with open(f"{root}/large/g{i}", "wb") as f: f.write(big)
PY
sync
for kind in small large; do
    (cd "$OUT/tree/$kind" && ls) | sed "s|.*|$OUT/tree/$kind/&\t$OUT/copy/$kind/|" > "$OUT/$kind-pairs.txt"
    (cd "$OUT/tree/$kind" && ls) | sed "s|.*|$OUT/tree/$kind/& $OUT/copy/$kind/|" > "$OUT/$kind-args.txt"
    bench "copy-$kind" --prepare "rm -rf $OUT/copy; mkdir -p $OUT/copy/$kind; sync" \
        -n pfutures "$PF copy -j2 < $OUT/$kind-pairs.txt" \
        -n cp-r "cp -r $OUT/tree/$kind $OUT/copy/" \
        -n xargs-cp "xargs -P2 -n2 cp < $OUT/$kind-args.txt" \
        -n process "$PF copy --pool process -j2 < $OUT/$kind-pairs.txt"
done
rm -rf "$OUT/tree" "$OUT/copy"

# Peak RSS (KiB, /usr/bin/time): the binary alone (--version: its mapped
# code, the floor under every run), 20,000 jobs beside xargs, and records
# streamed through -n 1000.
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
seq 20000 > "$OUT/20000.txt"
{
    echo "rss_version $(peak "$PF" --version)"
    echo "rss_20k $(peak "$PF" run -j2 -a "$OUT/20000.txt" true)"
    echo "rss_20k_xargs $(peak xargs -P2 -n1 -a "$OUT/20000.txt" true)"
    seq 100000 > "$OUT/100k.txt"
    echo "rss_100k $(peak "$PF" run -j2 -n 1000 -a "$OUT/100k.txt" true)"
    seq 1000000 > "$OUT/1m.txt"
    echo "rss_1m $(peak "$PF" run -j2 -n 1000 -a "$OUT/1m.txt" true)"
} > "$OUT/measures.txt"

# The executor core alone: no-op submit -> result, Swift beside Python's
# ThreadPoolExecutor and the least a C thread pool does (bench/core_limit.c),
# alternated five times (the figure is noisy on a shared machine); the
# report takes each one's median.
if [ -n "${FUTURES_BENCH:-}" ]; then
    cc -O2 -pthread -o "$OUT/core_limit" bench/core_limit.c
    for _ in 1 2 3 4 5; do
        echo "core_swift $("$FUTURES_BENCH" 200000 | cut -d' ' -f2)"
        echo "core_python $(python3 bench/futures_bench.py 200000 | cut -d' ' -f2)"
        echo "core_c $("$OUT/core_limit" 200000 | cut -d' ' -f2)"
    done >> "$OUT/measures.txt"
fi

python3 bench/report.py "$OUT" "$lines" | tee bench/RESULTS.md
