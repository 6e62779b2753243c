"""Python's ThreadPoolExecutor doing what bench/FuturesBench does: submit ->
result of no-op items, in items per second."""
import sys
import time
from concurrent.futures import ThreadPoolExecutor

count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
with ThreadPoolExecutor(max_workers=4) as pool:
    start = time.perf_counter()
    futures = [pool.submit(int, i) for i in range(count)]
    total = sum(f.result() for f in futures)
    elapsed = time.perf_counter() - start
print(f"python {int(count / elapsed)} items/s ({count} items, checksum {total})")
