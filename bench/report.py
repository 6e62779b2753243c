"""Turns the hyperfine JSON of bench/run.sh into the results table (Markdown)."""
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys

out, lines = sys.argv[1], int(sys.argv[2])
# NAME VALUE lines of run.sh (peak RSS in KiB, items per second); a name may repeat.
measures = {}
with open(os.path.join(out, "measures.txt")) as f:
    for line in f:
        name, value = line.split()
        measures.setdefault(name, []).append(int(value))


def measure(name):
    """The median of a measure's values (one of them)."""
    return statistics.median_high(measures[name])


def medians(name):
    """Each command's median time: of its one hyperfine run, or of the
    pooled times of the alternating rounds (NAME.rN.json) run.sh made."""
    single = os.path.join(out, name + ".json")
    rounds = [single] if os.path.exists(single) else sorted(glob.glob(os.path.join(out, name + ".r*.json")))
    times = {}
    for path in rounds:
        with open(path) as f:
            for result in json.load(f)["results"]:
                times.setdefault(result["command"], []).extend(result["times"])
    return {command: statistics.median(values) for command, values in times.items()}


def ratio(a, b):
    return f"{a / b:.2f}x"


cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
print(f"# Benchmark results\n\n{datetime.date.today()}, {platform.node()}: {os.cpu_count()} cores, {cpu}.")
print("Medians of hyperfine runs; ratios are pfutures / peer (below 1 = pfutures faster).\n")
print("| benchmark | pfutures | xargs | parallel | C limit | vs xargs | vs parallel | vs limit | target |")
print("|---|---|---|---|---|---|---|---|---|")
targets = {
    "startup-empty": "<= 1.2x xargs (static binary, empty input)",
    "startup-one": "<= 1.3x xargs (one job)",
    "true-j2": "<= 1.0x xargs, <= 1.05x limit",
    "true-j8": "",
    "shell-j2": ">= 8x faster than parallel, <= 1.1x limit",
    "startup": "<= 5 ms",
    "sleep-j32": "<= 1.1x ideal 0.3125 s",
    "output-500x200": "<= 1.2x xargs",
    "pack-rm": "<= 1.0x xargs",
}
for name, target in targets.items():
    m = medians(name)
    pf = m["pfutures"]
    cells = [f"{m[k] * 1000:.1f} ms" if k in m else "" for k in ("pfutures", "xargs", "parallel", "limit")]
    ratios = [ratio(pf, m[k]) if k in m else "" for k in ("xargs", "parallel", "limit")]
    if name == "sleep-j32":
        ratios[2] = f"{pf / 0.3125:.2f}x ideal"
    print(f"| {name} | " + " | ".join(cells + ratios) + f" | {target} |")
print("\n| copy | pfutures | cp -r | one cp per file (xargs -P2) | vs cp -r | vs per-file cp | target |")
print("|---|---|---|---|---|---|---|")
for name, label in (("copy-small", "5000 x 4 KiB"), ("copy-large", "20 x 50 MiB")):
    m = medians(name)
    pf = m["pfutures"]
    print(f"| {label} | {pf * 1000:.1f} ms | {m['cp-r'] * 1000:.1f} ms | {m['xargs-cp'] * 1000:.1f} ms | "
          f"{ratio(pf, m['cp-r'])} | {ratio(pf, m['xargs-cp'])} | <= 1.0x cp -r, <= 0.1x per-file cp |")
m = medians("pool-true")
print("\n| --pool process vs thread | thread | process | process, --chunksize 16 | ratio | target |")
print("|---|---|---|---|---|---|")
print(f"| 2000 x true, -j2 | {m['thread'] * 1000:.1f} ms | {m['process'] * 1000:.1f} ms | "
      f"{m['process-chunk16'] * 1000:.1f} ms | {ratio(m['process'], m['thread'])} | <= 1.1x |")
for name, label in (("copy-small", "5000 x 4 KiB copy"), ("copy-large", "20 x 50 MiB copy")):
    m = medians(name)
    print(f"| {label} | {m['pfutures'] * 1000:.1f} ms | {m['process'] * 1000:.1f} ms |  | "
          f"{ratio(m['process'], m['pfutures'])} | none set |")
m = medians("remote-true")
print("\n| remote workers, 2000 x true, 2 slots | local process pool | 2 ssh hosts | 2 Slurm nodes (with salloc) "
      "| ssh vs local | Slurm vs local | target |")
print("|---|---|---|---|---|---|---|")
print(f"| loopback | {m['process'] * 1000:.1f} ms | {m['ssh'] * 1000:.1f} ms | {m['slurm'] * 1000:.1f} ms | "
      f"{ratio(m['ssh'], m['process'])} | {ratio(m['slurm'], m['process'])} | <= 2x |")
m = medians("remote-40")
print(f"\n40 x true over the same two ssh hosts: pfutures {m['pfutures'] * 1000:.1f} ms, GNU parallel -S "
      f"{m['parallel'] * 1000:.1f} ms ({ratio(m['parallel'], m['pfutures'])} pfutures' time), "
      f"local process pool {m['local'] * 1000:.1f} ms.")
gib = 2147483648 / 1e9
print("\n| 2 GiB through cat jobs, 1 MiB blocks | pfutures | GNU parallel | cat \\| cat | pfutures GB/s "
      "| vs parallel | vs cat | target |")
print("|---|---|---|---|---|---|---|---|")
for name, target in (("pipe", ">= 1 GB/s, >= 5x faster than parallel"), ("pipepart", "<= 1.5x cat")):
    m = medians(name)
    pf = m["pfutures"]
    print(f"| --{name} | {pf * 1000:.0f} ms | {m['parallel'] * 1000:.0f} ms | {m['cat'] * 1000:.0f} ms | "
          f"{gib / pf:.2f} | {ratio(pf, m['parallel'])} | {ratio(pf, m['cat'])} | {target} |")
m = medians("pipepart")
print(f"\n--pipepart with 10 MiB blocks (a tenth of the cat processes): {m['pfutures-10M'] * 1000:.0f} ms, "
      f"{gib / m['pfutures-10M']:.2f} GB/s, {ratio(m['pfutures-10M'], m['cat'])} cat.")
print(f"\nGrouped output check: {lines} lines (expected 100000).")
mib = lambda name: f"{measure(name) / 1024:.1f} MiB"
print("\n| peak RSS | pfutures | xargs | target |")
print("|---|---|---|---|")
print(f"| --version (the binary's mapped code alone) | {mib('rss_version')} |  | the floor under every run |")
print(f"| 20,000 x true, -j2 | {mib('rss_20k')} | {mib('rss_20k_xargs')} | < 4 MiB |")
print(f"| 100k records, -n 1000 | {mib('rss_100k')} |  | flat |")
print(f"| 1M records, -n 1000 | {mib('rss_1m')} |  | < 16 MiB |")
if "core_swift" in measures:
    swift, python, c = measure("core_swift"), measure("core_python"), measure("core_c")
    print(f"\nExecutor core, no-op submit -> result, 4 workers (median of 5, alternated): Swift {swift:,} items/s, "
          f"Python's ThreadPoolExecutor {python:,} items/s: {swift / python:.1f}x (target >= 20x); "
          f"the least a C thread pool does (bench/core_limit.c) {c:,} items/s, {c / python:.1f}x Python.")
print("\nReproduce: `make bench` (BENCH_RUNS=N for more runs).")
