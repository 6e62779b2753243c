"""Turns the hyperfine JSON of bench/run.sh into the results table (Markdown)."""
import datetime
import json
import os
import platform
import subprocess
import sys

out, lines, rss100k, rss1m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def medians(name):
    with open(os.path.join(out, name + ".json")) as f:
        return {r["command"]: r["median"] for r in json.load(f)["results"]}


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
    "true-j2": "<= 1.0x xargs, <= 1.15x limit",
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
      f"{m['process-chunk16'] * 1000:.1f} ms | {ratio(m['process'], m['thread'])} | <= 1.2x |")
for name, label in (("copy-small", "5000 x 4 KiB copy"), ("copy-large", "20 x 50 MiB copy")):
    m = medians(name)
    print(f"| {label} | {m['pfutures'] * 1000:.1f} ms | {m['process'] * 1000:.1f} ms |  | "
          f"{ratio(m['process'], m['pfutures'])} | <= 1.2x |")
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
print(f"Peak RSS streaming records with -n 1000: 100k records {rss100k / 1024:.1f} MiB, "
      f"1M records {rss1m / 1024:.1f} MiB (target <= 32 MiB, flat).")
print("\nReproduce: `make bench` (BENCH_RUNS=N for more runs).")
