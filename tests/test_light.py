"""Everything that plays or writes runs without torch: every user command, in its own process,
with importing torch, matplotlib, scikit-learn, scipy and scikit-image blocked (tests/light_helpers.py). Each must do
its work and must not even try to import them, which a silent fallback (`except ImportError`)
would otherwise hide; with them installed ("watch"), none is in sys.modules when a command ends.
Training and the reports need the training extra and say so in one line (exit 2).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from light_helpers import blocker_env, drumfont_cmd, heavy_imports

from drumfont.score.midifile import read_patterns, write_midi
from drumfont.score.pattern import from_text

GROOVE = from_text("KK x...x...x...x...\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")
TIMEOUT = 300


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("light")
    write_midi(folder / "groove.mid", [GROOVE, GROOVE])
    return folder


def _run(folder: Path, args: list[str], mode: str = "block") -> tuple[subprocess.CompletedProcess, list[str]]:
    env, log = blocker_env(folder / f"env-{uuid.uuid4().hex[:6]}", mode)
    res = subprocess.run(drumfont_cmd(*args), cwd=folder, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return res, heavy_imports(log)


# (arguments, files the command must write) for every command that plays or writes a file
COMMANDS = {
    "export": (["export", "--style", "rock", "-n", "16", "--out", "ex", "--seed", "1"], ["ex/rock-016.mid"]),
    "export-rules": (["export", "--style", "jazz", "-n", "2", "--out", "exr", "--rules"], ["exr/jazz-002.mid"]),
    "interpolate": (["interpolate", "--from", "rock", "--to", "groove.mid", "--steps", "4", "-o", "m.mid"],
                    ["m.mid"]),
    "transfer": (["transfer", "groove.mid", "--to", "jazz", "-o", "t.mid"], ["t.mid"]),
    "humanize": (["humanize", "groove.mid", "-o", "h.mid", "--seed", "0"], ["h.mid"]),
    "drumify": (["drumify", "groove.mid", "-o", "d.mid", "--seed", "0", "-n", "2"], ["d-1.mid", "d-2.mid"]),
    "render": (["render", "--style", "funk", "-n", "1", "-o", "r.wav", "--seed", "0"], ["r.wav"]),
    "letters": (["letters", "DRUM", "-o", "drum.png", "--seed", "3"], ["drum.png"]),
    "letters-cells": (["letters", "HI", "-o", "cells.png", "--scale", "2"], ["cells.png"]),
    "letters-grid": (["letters", "--grid", "-o", "grid.png"], ["grid.png"]),
    "font": (["font", "-o", "f.otf", "--seed", "1"], ["f.otf"]),
    "data-import": (["data", "import", "groove.mid", "--out", "lib.npz", "--workers", "1"], ["lib.npz"]),
    "data-drums": (["data", "drums", "--out", "corpus.npz", "--per-genre", "4"], ["corpus.npz"]),
    "ports": (["ports"], []),
    # the phrase model's commands (issue 19)
    "export-phrase": (["export", "--style", "rock", "-n", "2", "--phrase", "4", "--out", "exp", "--seed", "1"], []),
    "song": (["song", "--style", "funk", "--form", "intro:2,verse:4", "-o", "song.mid", "--seed", "2"], ["song.mid"]),
    "continue": (["continue", "groove.mid", "--bars", "2", "-o", "cont.mid", "--seed", "3"], ["cont.mid"]),
    "interpolate-phrase": (["interpolate", "--from", "rock", "--to", "jazz", "--steps", "3", "--phrase", "2",
                            "-o", "mp.mid"], ["mp.mid"]),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_runs_without_torch(work, name):
    args, outputs = COMMANDS[name]
    res, imports = _run(work, args)
    assert res.returncode == 0, res.stderr[-2000:]
    assert imports == [], f"{name} tried to import {imports}"
    for out in outputs:
        assert (work / out).is_file() and (work / out).stat().st_size > 0, out
    if name == "export":  # the shipped VAE drew them, not the rules it would fall back to
        assert "note:" not in res.stderr and len(read_patterns(work / "ex" / "rock-001.mid")) == 1
    if name == "export-phrase":  # the phrase model played them (no fallback note), 4 bars a phrase
        files = sorted((work / "exp").glob("*.mid"))
        assert len(files) == 2 and "note:" not in res.stderr, res.stderr
        assert len(read_patterns(files[0])) == 4


def test_style_from_an_image_runs_without_torch(work):
    res, imports = _run(work, ["letters", "AB", "-o", "src.png", "--scale", "2"])
    assert res.returncode == 0, res.stderr
    res, imports = _run(work, ["letters", "BA", "--style-from", "src.png", "-o", "fitted.png"])
    assert res.returncode == 0 and imports == [], res.stderr[-2000:]
    assert (work / "fitted.png").stat().st_size > 0


@pytest.mark.parametrize("name", ["export", "humanize", "drumify", "letters", "data-import"])
def test_with_torch_installed_no_command_loads_it(tmp_path, name):
    pytest.importorskip("torch")
    write_midi(tmp_path / "groove.mid", [GROOVE, GROOVE])
    res, imports = _run(tmp_path, COMMANDS[name][0], "watch")
    assert res.returncode == 0, res.stderr[-2000:]
    assert imports == [], f"{name}: {imports}"


@pytest.mark.parametrize("args", [["train", "vae", "--epochs", "1"], ["train", "gan"],
                                  ["report", "vae", "--out", "rv"], ["report", "gan", "--out", "rg"]])
def test_training_and_reports_say_what_to_install(work, args):
    res, _ = _run(work, args)
    assert res.returncode == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "pip install 'drumfont[train]'" in err and "Traceback" not in err


def test_play_streams_the_vae_without_torch(work, jack_monitor, jack_server):
    tag = uuid.uuid4().hex[:6]
    rec = jack_monitor(None, f"rec{tag}")
    env, log = blocker_env(work / f"play-{tag}", "block")
    env["JACK_DEFAULT_SERVER"] = jack_server["JACK_DEFAULT_SERVER"]
    res = subprocess.run(drumfont_cmd("play", "--style", "rock", "--count", "2", "--seed", "1", "--backend", "jack",
                                      "--port", f"rec{tag}", "--bars", "2", "--bpm", "300"),
                         cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    events = rec.stop()
    assert res.returncode == 0, res.stderr[-2000:]
    assert "stopped after 2 bars" in res.stdout and "note:" not in res.stderr  # the VAE, not the rules
    assert any(m[0] & 0xF0 == 0x90 and m[2] > 0 for _, m in events)           # notes reached the recorder
    assert heavy_imports(log) == []


def test_the_studio_starts_and_loads_the_vae_without_torch(work):
    from test_tui_tmux import TMUX, Term

    if TMUX is None:
        pytest.skip("tmux is not installed (CI installs it: apt-get install tmux)")
    env, log = blocker_env(work / "tui", "block")
    keep = {k: env[k] for k in ("PYTHONPATH", "DRUMFONT_IMPORT_LOG", "DRUMFONT_IMPORT_MODE")}
    data = work / "tui-data"
    term = Term(work, " ".join(drumfont_cmd("tui", "--no-midi", "--no-audio", "--data-dir", str(data))), keep)
    try:
        term.wait_for("engine: vae", timeout=60)
        term.keys("s")
        time.sleep(0.5)
        term.keys("q")
        end = time.monotonic() + 20
        while time.monotonic() < end and "sleep" not in term.run("display-message", "-p", "#{pane_current_command}"):
            time.sleep(0.2)
    finally:
        term.close()
    assert heavy_imports(log) == []


def test_the_phrase_engine_runs_without_torch(work):
    """No command calls it yet (issue 19: the Python API first): its sampling, Continue and songs
    run with torch blocked all the same."""
    env, log = blocker_env(work / "phrase", "block")
    code = ("from drumfont.drums import phrase_engine as pe; m = pe.load(); bars = m.sample('rock', 4, seed=0); "
            "more = m.continue_(bars, 2, seed=1); song = m.song('funk', 'intro:2,verse:4', seed=2); "
            "print(len(bars), len(more), sum(len(s.patterns) for s in song))")
    res = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["4", "2", "6"]
    assert heavy_imports(log) == []
