#!/usr/bin/env python3
"""Reads a stress run (loadtest/locustfile.py with LOADTEST_STRESS=1) and says where the platform
saturated and whether it degraded gracefully.

    loadtest/stress_check.py STRESS_JSON [--people-written N] [--max-admitted-p99-ms 3000]

Prints a Markdown table by step, then the breaking point of each request name: the first step
at which more than 1% of its requests were shed, or its admitted p99 passed the `full` p99 limit
of loadtest/thresholds.json. Fails (exit 1) unless:
- no request failed at any step (every answer was 2xx, or a 429 or 503 with Retry-After);
- no request name's admitted p99 passed --max-admitted-p99-ms (or three times its own first
  step's p99, where that is more) at any step;
- the last step, back at the first step's users after one step to drain, shed nothing, with
  every name's median within twice its first step's (or 50 ms of it), and its p99 too where both
  steps made a hundred requests of it or more (the p99 of a few dozen is their slowest one);
- with --people-written (the registrations the database holds, counted by the caller): no
  registration answered 201 is missing.
"""

import argparse
import json
import os
import sys
from collections import defaultdict


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stress")
    parser.add_argument("--thresholds", default=os.path.join(os.path.dirname(__file__), "thresholds.json"))
    parser.add_argument("--people-written", type=int)
    parser.add_argument("--max-admitted-p99-ms", type=float, default=3000)
    options = parser.parse_args()
    with open(options.stress, encoding="utf-8") as handle:
        run = json.load(handle)
    with open(options.thresholds, encoding="utf-8") as handle:
        full = json.load(handle)["profiles"]["full"]
    seconds = run["step_seconds"]
    last = len(run["steps"]) - 1
    by_step = defaultdict(lambda: {"admitted": 0, "shed": 0, "failed": 0, "p99": 0.0})
    for row in run["rows"]:
        step = by_step[row["step"]]
        step["admitted"] += row["admitted"]
        step["shed"] += row["shed"]
        step["failed"] += row["failed"]
        step["p99"] = max(step["p99"], row["p99_ms"] or 0)

    problems = []
    print("| step | users | requests/s | admitted | shed (429/503 + Retry-After) | failed | worst admitted p99 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for index, users in enumerate(run["steps"]):
        step = by_step[index]
        total = step["admitted"] + step["shed"] + step["failed"]
        label = f"{index + 1}" + (" (recovery)" if index == last else " (draining)" if index == last - 1 else "")
        print(f"| {label} | {users} | {total / seconds:.0f} | {step['admitted']} | {step['shed']}"
              f" ({step['shed'] / total:.1%}) | {step['failed']} | {step['p99']:.0f} ms |" if total else
              f"| {label} | {users} | 0 | 0 | 0 | 0 | |")
        if step["failed"]:
            problems.append(f"step {index + 1} ({users} users): {step['failed']} requests failed")
    print()
    # Admitted requests stay bounded: no name's p99 at any step above the bound, or three times
    # its own p99 at the first step where that is more (a login's password hash is slow by design).
    first_p99 = {row["name"]: row["p99_ms"] or 0 for row in run["rows"] if row["step"] == 0}
    for row in run["rows"]:
        bound = max(options.max_admitted_p99_ms, 3 * first_p99.get(row["name"], 0))
        if row["p99_ms"] is not None and row["p99_ms"] > bound:
            problems.append(f"{row['name']} at {row['users']} users: an admitted p99 of {row['p99_ms']:.0f} ms"
                            f" over {bound:.0f} ms")

    first = {row["name"]: row for row in run["rows"] if row["step"] == 0}
    print("| request | breaking point (users) | why |")
    print("|---|---:|---|")
    for name in sorted({row["name"] for row in run["rows"]}):
        limit = {**full["default"], **full["requests"].get(name, {})}["p99_ms"]
        broke = None
        for row in sorted((r for r in run["rows"] if r["name"] == name and r["step"] < last - 1),
                          key=lambda r: r["step"]):
            total = row["admitted"] + row["shed"] + row["failed"]
            if total and row["shed"] / total > 0.01:
                broke = (row["users"], f"{row['shed'] / total:.1%} shed")
                break
            if row["p99_ms"] is not None and row["p99_ms"] > limit:
                broke = (row["users"], f"admitted p99 {row['p99_ms']:.0f} ms over {limit} ms")
                break
        print(f"| {name} | {broke[0] if broke else 'not reached'} | {broke[1] if broke else ''} |")
        recovered = next((r for r in run["rows"] if r["name"] == name and r["step"] == last), None)
        if recovered and recovered["shed"]:
            problems.append(f"{name}: still shedding when the load fell back ({recovered['shed']} shed)")
        start = first.get(name)
        # A step at the first step's users makes a few dozen requests of most names, and the p99
        # of a few dozen is their slowest one: the median says whether the path recovered, and
        # the p99 does too where each step had a hundred requests or more to take it from.
        for key, label, enough in (("p50_ms", "median", 1), ("p99_ms", "p99", 100)):
            if not (recovered and start and recovered[key] and start[key]):
                continue
            if min(recovered["admitted"], start["admitted"]) < enough:
                continue
            if recovered[key] > max(2 * start[key], start[key] + 50):
                problems.append(f"{name}: {label} {recovered[key]:.0f} ms when the load fell back,"
                                f" against {start[key]:.0f} ms at first")
    print()
    if options.people_written is not None:
        print(f"Registrations answered 201: {run['created']}; written: {options.people_written}.")
        if options.people_written < run["created"]:
            problems.append(f"{run['created'] - options.people_written} registrations answered 201 are missing")
    if problems:
        print("stress: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)
    print("stress: no request failed, the admitted stayed bounded, and the platform recovered", file=sys.stderr)


if __name__ == "__main__":
    main()
