#!/usr/bin/env python3
"""Holds a Locust run to loadtest/thresholds.json and prints the verdict as a Markdown table.

    loadtest/check.py STATS_CSV [--thresholds loadtest/thresholds.json] [--profile full|smoke]

STATS_CSV is the `<prefix>_stats.csv` Locust writes with `--csv <prefix>`. Each request name
is held to its p95, p99 and failure-ratio limits. The BULK rows (`import N people`,
`disburse N lines`) are held to a minimum rate. Exits 1 when any limit is broken, or when a row
named in the thresholds never ran.
"""

import argparse
import csv
import json
import os
import re
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stats")
    parser.add_argument("--thresholds", default=os.path.join(os.path.dirname(__file__), "thresholds.json"))
    parser.add_argument("--profile", default="full")
    options = parser.parse_args()
    with open(options.thresholds, encoding="utf-8") as handle:
        profile = json.load(handle)["profiles"][options.profile]
    with open(options.stats, encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]

    broken = []
    seen = set()
    print(f"| request | count | failed | p95 | p99 | limits ({options.profile}) | |")
    print("|---|---:|---:|---:|---:|---|---|")
    for row in rows:
        kind, name = row["Type"], row["Name"]
        key = name if name.startswith(kind + " ") else f"{kind} {name}"
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        p95, p99 = float(row["95%"] or 0), float(row["99%"] or 0)
        problems = []
        if kind == "BULK":
            match = re.match(r"(import|disburse) (\d+)", name)
            if not match:
                problems.append("a bulk row of unknown kind")
                limits = ""
            else:
                what, size = match.group(1), int(match.group(2))
                rate = size / (float(row["Max Response Time"]) / 1000) if float(row["Max Response Time"]) else 0
                minimum = profile["bulk"][what]["min_per_s"]
                seen.add(f"bulk {what}")
                limits = f"≥ {minimum:,} a second; took {float(row['Max Response Time']) / 1000:.1f} s, {rate:,.0f} a second"
                if rate < minimum:
                    problems.append(f"{rate:,.0f} a second, below {minimum:,}")
                if failed:
                    problems.append("failed")
        else:
            limit = {**profile["default"], **profile["requests"].get(key, {})}
            seen.add(key)
            ratio = failed / count if count else 0
            limits = ", ".join(
                part for part in (
                    f"p95 ≤ {limit['p95_ms']} ms" if "p95_ms" in limit else "",
                    f"p99 ≤ {limit['p99_ms']} ms" if "p99_ms" in limit else "",
                    f"failed ≤ {limit['max_failure_ratio']:.1%}") if part)
            if "p95_ms" in limit and p95 > limit["p95_ms"]:
                problems.append(f"p95 {p95:.0f} ms")
            if "p99_ms" in limit and p99 > limit["p99_ms"]:
                problems.append(f"p99 {p99:.0f} ms")
            if ratio > limit["max_failure_ratio"]:
                problems.append(f"{ratio:.2%} failed")
        verdict = "**over: " + "; ".join(problems) + "**" if problems else "ok"
        print(f"| {key} | {count} | {failed} | {p95:.0f} ms | {p99:.0f} ms | {limits} | {verdict} |")
        if problems:
            broken.append(f"{key}: {'; '.join(problems)}")
    for key in profile["requests"]:
        if key not in seen and not key.startswith("SMS "):
            broken.append(f"{key}: never ran")
    for what in profile["bulk"]:
        if f"bulk {what}" not in seen:
            broken.append(f"bulk {what}: never ran")
    print()
    if broken:
        print("check: over the thresholds: " + "; ".join(broken), file=sys.stderr)
        sys.exit(1)
    print("check: every request within its thresholds", file=sys.stderr)


if __name__ == "__main__":
    main()
