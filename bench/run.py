"""Run every bench script (``bench/bench_*.py``) and print their figures, one line per figure.

    make bench                                                        # SQLite (embedded default)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> make bench  # PostgreSQL: the budgets' database

Each script works in its own throwaway database (``bench_<name>``), never on real data. Lines starting
with ``#`` are context (database, query plans); the others are figures, each ending in OK or OVER BUDGET.
Exit status: 1 if any script failed or any figure is over budget.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(name in s.name for name in argv)]
    failed = False
    for script in scripts:
        print(f"## {script.name}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            print(line, flush=True)
            if "OVER BUDGET" in line:
                failed = True
        if proc.returncode != 0:
            failed = True
            print(f"{script.stem}: FAILED (exit {proc.returncode})")
            print(proc.stderr.strip()[-3000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
