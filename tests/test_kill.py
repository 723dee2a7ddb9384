"""SIGKILL at random points: export, letters, training and the studio's autosave leave no
partial file, the next run leaves no stray temp file, and resume/restore works. Each test kills
real `drumfont` processes (or a studio saving in a loop) after a seeded random delay."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def start(*argv: str, code: str | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "drumfont", *argv]
    return subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(proc: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL the process after `seconds` (True), unless it ended first (False)."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def stamp(path: Path) -> tuple[int, int] | None:
    """Identity of the file now at `path` (an atomic replace gives a new inode), or None."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def run_ok(*argv: str) -> float:
    """Run a command to its end; its wall time in seconds."""
    t = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "drumfont", *argv], cwd=ROOT, env=ENV, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return time.monotonic() - t


def test_killed_exports_leave_whole_files_and_the_next_run_no_temp(tmp_path):
    from drumfont.score.midifile import read_patterns

    rng = random.Random(15)
    out = tmp_path / "bars"
    argv = ["export", "--rules", "--style", "rock", "-n", "400", "--out", str(out), "--force"]
    # kill points are shares of a whole run on this machine (0.7 s quiet, several s under load):
    # fixed delays missed a quick machine's runs
    whole = run_ok(*argv)
    killed = 0
    for _ in range(3):
        killed += kill_after(start(*argv), rng.uniform(0.3, 0.8) * whole)
        for f in out.glob("*.mid"):  # every file there is whole
            assert len(read_patterns(f)) == 1, f
    assert killed, "no kill landed inside a run"
    run_ok(*argv)
    assert temps(out) == [] and len(list(out.glob("*.mid"))) == 400


def test_killed_letters_leave_no_partial_png_and_the_next_run_no_temp(tmp_path):
    from PIL import Image

    rng = random.Random(16)
    png = tmp_path / "title.png"
    argv = ["letters", "DRUMFONT KILL TEST", "-o", str(png), "--scale", "16", "--force"]
    whole = run_ok(*argv)  # the PNG is written at the end: kill late in runs that replace it
    killed = 0
    for _ in range(3):
        killed += kill_after(start(*argv), rng.uniform(0.6, 0.97) * whole)
        Image.open(png).verify()  # the old whole PNG or the new one, never a part
    assert killed, "no kill landed inside a run"
    run_ok(*argv)
    assert temps(tmp_path) == []
    Image.open(png).verify()


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> str:
    from drumfont.drums.dataset import DrumDataset

    # 1,200 bars: an epoch takes ~0.3 s on a quiet core, so a kill 0.05-0.6 s after a checkpoint lands
    # inside the run (with 60 bars the whole run took 0.6 s and finished before the kill on a quiet machine)
    rng = np.random.default_rng(0)
    n = 1200
    vel = (rng.random((n, 16, 9)) < 0.2).astype(np.uint8) * 100
    path = tmp_path_factory.mktemp("data") / "d.npz"
    DrumDataset(vel, np.repeat(np.arange(3, dtype=np.int16), n // 3), (np.arange(n) % 5 == 0).astype(np.uint8),
                ("rock", "jazz", "latin")).save(path)
    return str(path)


def test_killed_training_resumes_to_the_same_weights(tiny_data, tmp_path):
    import torch

    from drumfont.checkpoint import load_checkpoint

    flags = ["--data", tiny_data, "--epochs", "12", "--val-every", "1", "--model-channels", "8",
             "--model-hidden", "8", "--batch-size", "16", "--no-progress"]
    full, part = tmp_path / "full.pt", tmp_path / "part.pt"
    run_ok("train", "vae", *flags, "--out", str(full))
    rng = random.Random(17)
    for _ in range(2):  # killed twice, each time resumed from its last checkpoint
        before = stamp(part)
        proc = start("train", "vae", *(["--resume"] if before else flags), "--out", str(part))
        # wait for this run's first checkpoint (a new file replaces the old), then kill at a random point of the
        # epochs after it
        deadline = time.monotonic() + 120
        while stamp(part) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stamp(part) != before, "the run wrote no checkpoint"
        assert kill_after(proc, rng.uniform(0.05, 0.6)), "the run ended before the kill: its epochs are too short"
        load_checkpoint(part, "vae")  # never a partial checkpoint
        assert not load_checkpoint(part, "vae")["extras"]["complete"]
    run_ok("train", "vae", "--out", str(part), "--resume", "--no-progress")
    a, b = load_checkpoint(full, "vae"), load_checkpoint(part, "vae")
    assert b["extras"]["complete"]
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k
    epochs = [json.loads(x)["epoch"] for x in part.with_suffix(".jsonl").read_text().splitlines()]
    assert epochs == list(range(12))  # each epoch once: the torn line and the re-run epochs replaced
    assert temps(tmp_path) == []


AUTOSAVE = """
import sys
from drumfont.tui import session as st
from drumfont.score.pattern import Pattern
folder = sys.argv[1]
s, _ = st.open_session(__import__('pathlib').Path(folder))
from drumfont.drums.engine import RulesEngine
eng = RulesEngine()
while True:  # the studio autosaves after every change; change and save as fast as it can
    s.put(s.seed % st.BANK_SLOTS, eng.sample("rock", 1.0, s.next_seed()))
    s.save(folder + "/session.json")
"""


def test_killed_autosave_restores_the_last_session_and_leaves_no_temp(tmp_path):
    from drumfont.tui import session as st

    rng = random.Random(18)
    last_seed = -1
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", AUTOSAVE, str(tmp_path)], cwd=ROOT, env=ENV,
                                stderr=subprocess.PIPE)
        assert kill_after(proc, rng.uniform(1.0, 2.5)), proc.stderr.read().decode()
        s, note = st.open_session(tmp_path)
        assert note is None  # whole, never damaged
        assert s.seed > last_seed  # a later session each time: the work is kept
        last_seed = s.seed
    s.save(tmp_path / st.SESSION_FILE)  # the next save cleans what the killed ones left
    assert temps(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]
