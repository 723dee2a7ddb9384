"""Run drumfont commands as a user without torch would: a `sitecustomize` on PYTHONPATH puts an
import blocker first on `sys.meta_path` in the command's process and every process it starts.

Mode "block": importing torch, matplotlib, scikit-learn, scipy or scikit-image fails (ModuleNotFoundError), as where
they are not installed. Mode "watch": nothing fails, the import proceeds. In both, every attempt is
logged, and at exit every one of them that is in `sys.modules` is logged too, so a test sees an
import that a `try: import torch` would have hidden.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HEAVY = ("torch", "matplotlib", "sklearn", "scipy", "skimage")

SITECUSTOMIZE = '''
import atexit, os, sys

_HEAVY = {heavy!r}
_LOG = os.environ["DRUMFONT_IMPORT_LOG"]
_MODE = os.environ.get("DRUMFONT_IMPORT_MODE", "block")


def _log(line):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{{os.getpid()}} {{line}}\\n")


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _HEAVY:
            _log(f"import {{name}}")
            if _MODE == "block":
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, _Blocker())


@atexit.register
def _loaded():
    for name in sorted(sys.modules):
        if name in _HEAVY:
            _log(f"loaded {{name}}")
'''


def blocker_env(folder: Path, mode: str = "block") -> tuple[dict[str, str], Path]:
    """(environment for a subprocess, the log file it writes) with the blocker installed."""
    site = folder / "import-blocker"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(heavy=HEAVY), encoding="utf-8")
    log = folder / f"imports-{mode}.log"
    log.write_text("", encoding="utf-8")
    # the installed drumfont is the one run (the light venv of .ci/run tests an install, not the checkout)
    path = [str(site)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), DRUMFONT_IMPORT_LOG=str(log),
               DRUMFONT_IMPORT_MODE=mode, PYTHONUNBUFFERED="1")
    return env, log


def heavy_imports(log: Path) -> list[str]:
    """The log's lines: every attempt to import a heavy package, and every one loaded at exit."""
    return [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def drumfont_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "drumfont", *args]
