#!/usr/bin/env python3
"""Summarise meson test runs (meson-logs/testlog.json of each build) as one line per test and the
closing line CI reads: "N passed, N failed". A skipped test is not a pass: it is counted
as failed, so a suite that silently stops running cannot look green."""

import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}


def main(paths):
    passed = failed = 0
    results = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                results += [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            print(f"no test log {path}: that build ran no test")
            failed += 1
    for r in results:
        ok = r["result"] in PASS
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {r['name']} ({r['result']}, {r['duration']:.1f}s)")
    if not results:
        print("no test ran")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
