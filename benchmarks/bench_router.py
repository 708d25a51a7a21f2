"""Router speed on one core: build time, then cases/second over the dev set repeated.

python benchmarks/bench_router.py [/work/shared/eval/dev_cases.jsonl] [--cases 10000]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from routing.router import locate as locate_module  # noqa: E402
from routing.router.evaluate import build_router_from_reference_files, load_cases, predict_line  # noqa: E402

DEV = "/work/shared/eval/dev_cases.jsonl"


def _cold_caches() -> None:
    """Start each timing with empty caches, so repeats do not flatter the figure."""
    from routing.router.gazetteer import normalize

    normalize.cache_clear()
    locate_module.phone_region.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default=DEV)
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    start = time.perf_counter()
    router = build_router_from_reference_files()
    build = time.perf_counter() - start

    cases = load_cases(args.path)
    batch = (cases * (args.cases // len(cases) + 1))[: args.cases]
    # Vary the texts so the normalize/phone caches cannot answer from memory.
    batch = [{**c, "text": f"{c['text']}（{i}）", "caller_phone": c["caller_phone"]} for i, c in enumerate(batch)]
    _cold_caches()
    start = time.perf_counter()
    for case in batch:
        predict_line(router, case)
    elapsed = time.perf_counter() - start
    print(f"router build: {build * 1000:.0f} ms")
    print(f"{len(batch)} cases in {elapsed:.2f} s on one core: {len(batch) / elapsed:,.0f} cases/second")


if __name__ == "__main__":
    main()
