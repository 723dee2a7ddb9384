"""Wall time of `drumfont export --style rock -n 16` beside bare `import torch` and
`import drumfont.cli`, in the same run (median of --reps), then the modules the export command
imports, largest cumulative import time first (`python -X importtime`), to spot eager imports.

    python benchmarks/bench_cli_startup.py [--reps 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd: list[str], reps: int) -> tuple[float, int, str]:
    times, rc, err = [], 0, ""
    for _ in range(reps):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        rc, err = proc.returncode, proc.stderr.strip().splitlines()[-1:] or [""]
    return statistics.median(times), rc, err[0]


def import_profile(cmd: list[str], top: int) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the top-level imports, from -X importtime."""
    proc = subprocess.run([cmd[0], "-X", "importtime"] + cmd[1:], capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # top-level: indented by one space
            rows.append((int(m.group(1)) / 1e6, m.group(3)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "exp")
        export = [py, "-m", "drumfont", "export", "--style", "rock", "-n", "16", "--out", out, "--force"]
        cases = [
            ("python -c pass", [py, "-c", "pass"]),
            ("python -c 'import numpy'", [py, "-c", "import numpy"]),
            ("python -c 'import torch'", [py, "-c", "import torch"]),
            ("python -c 'import drumfont.cli'", [py, "-c", "import drumfont.cli"]),
            ("drumfont --help", [py, "-m", "drumfont", "--help"]),
            ("drumfont export --style rock -n 16 --rules", export + ["--rules"]),
            ("drumfont export --style rock -n 16 (VAE)", export),
        ]
        print(f"median wall time of {args.reps} runs each ({py})")
        for name, cmd in cases:
            t, rc, err = wall(cmd, args.reps)
            note = "" if rc == 0 else f"   [exit {rc}: {err}]"
            print(f"  {name:46}{t * 1000:>8.0f} ms{note}")
        print("\nlargest top-level imports of `drumfont export --style rock -n 16 --rules` (cumulative):")
        for sec, mod in import_profile(export + ["--rules"], args.top):
            print(f"  {sec * 1000:>8.1f} ms  {mod}")


if __name__ == "__main__":
    main()
