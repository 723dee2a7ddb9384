"""The studio in a real terminal: tmux runs `drumfont tui`, keys go in with send-keys, the screen
comes back with capture-pane. Sample, toggle a step, export; check the grid and the file; a bar
with micro-timing shows its lean marks in the real terminal, and Q straightens it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from drumfont.drums import engine as eng
from drumfont.score.midifile import read_patterns
from drumfont.score.pattern import KICK, LABELS, N_VOICES, STEPS
from drumfont.tui import session as st

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it: apt-get install tmux)")


class Term:
    """One tmux server of our own (its own socket), one 80x24 window."""

    def __init__(self, tmp_path, command: str, env: dict[str, str]) -> None:
        self.sock = f"drumfont-test-{os.getpid()}-{time.monotonic_ns()}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.run("new-session", "-d", "-s", "t", "-x", "80", "-y", "24",
                 f"cd {shlex.quote(str(tmp_path))} && env {exports} {command}; sleep 30")

    def run(self, *args: str) -> str:
        return subprocess.run([TMUX, "-L", self.sock, *args], check=True, capture_output=True,
                              text=True, timeout=10).stdout

    def keys(self, *keys: str) -> None:
        for k in keys:
            self.run("send-keys", "-t", "t", k)
            time.sleep(0.05)  # one key per read: the app sees separate presses, not a paste

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.screen()
            if text in s:
                return s
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.sock, "kill-server"], capture_output=True, timeout=10)


def marks_from_screen(screen: str) -> tuple[np.ndarray, np.ndarray]:
    """The (16, 9) cells and lean marks drawn on screen: rows 'KK │X x» · x‹│...', each step a
    level character and the mark after it (a space when on the grid)."""
    cells = np.full((STEPS, N_VOICES), "", object)
    marks = np.full((STEPS, N_VOICES), "", object)
    found = set()
    for line in screen.splitlines():
        label = line.strip()[:2]
        if label in LABELS and "│" in line:
            voice = LABELS.index(label)
            row = "".join(beat[:8].ljust(8) for beat in line.split("│")[1:5])
            assert len(row) == 2 * STEPS, line
            cells[:, voice], marks[:, voice] = list(row[0::2]), list(row[1::2])
            found.add(voice)
    assert len(found) == N_VOICES, screen
    return cells, marks


def grid_from_screen(screen: str) -> np.ndarray:
    """The (16, 9) hit grid drawn on screen."""
    cells, _ = marks_from_screen(screen)
    return np.isin(cells, list("oxX"))


def test_sample_toggle_export_in_tmux(tmp_path):
    data = tmp_path / "data"
    # no audio either: a machine without a sound card says so on the status line as the player
    # opens, which can land after the toggle's line and hide it
    cmd = f"{shlex.quote(sys.executable)} -m drumfont tui --rules --no-midi --no-audio"
    term = Term(tmp_path, cmd, {"DRUMFONT_DATA_DIR": str(data), "TERM": "xterm-256color"})
    try:
        term.wait_for("▸1")
        first = grid_from_screen(term.screen())

        term.keys("s")
        screen = term.wait_for("sampled")
        sampled = grid_from_screen(screen)
        saved = st.Studio.load(data / st.SESSION_FILE)
        assert np.array_equal(sampled, saved.current.hits)  # what is drawn is what was saved
        assert not np.array_equal(sampled, first)

        term.keys("l", "x")  # step 2 of the kick
        screen = term.wait_for("KK step 2:")
        toggled = grid_from_screen(screen)
        expect = sampled.copy()
        expect[1, KICK] = not expect[1, KICK]
        assert np.array_equal(toggled, expect)

        term.keys("e")
        term.wait_for("export the phrase (4 bars)")   # a slot holds a phrase: all of it is exported
        term.keys("Enter")
        term.wait_for("wrote 4 bars")
        exported = read_patterns(tmp_path / "drumfont-rock-slot1.mid")
        phrase = st.Studio.load(data / st.SESSION_FILE).phrase
        assert len(exported) == 4 and np.array_equal(exported[0].hits, toggled)
        assert [b.hits.tolist() for b in exported] == [b.hits.tolist() for b in phrase.bars]

        term.keys("q")
        end = time.monotonic() + 10
        while time.monotonic() < end and "▸1" in term.screen():
            time.sleep(0.1)
        assert np.array_equal(st.Studio.load(data / st.SESSION_FILE).current.hits, toggled)
    finally:
        term.close()


def test_lean_marks_and_straighten_in_tmux(tmp_path):
    from drumfont.tui.widgets.grid import lean_mark

    data = tmp_path / "data"
    bar = eng.RulesEngine().sample("rock", 1.0, 3)
    bar = bar.with_offsets(np.random.default_rng(3).uniform(-0.45, 0.45, bar.velocities.shape))
    session = st.Studio()
    session.doc.bank[0] = bar
    data.mkdir()
    session.save(data / st.SESSION_FILE)
    cmd = f"{shlex.quote(sys.executable)} -m drumfont tui --rules --no-midi"
    term = Term(tmp_path, cmd, {"DRUMFONT_DATA_DIR": str(data), "TERM": "xterm-256color"})
    try:
        cells, marks = marks_from_screen(term.wait_for("▸1"))
        assert np.array_equal(np.isin(cells, list("oxX")), bar.hits)
        want = [[lean_mark(float(bar.offsets[s, v]))[0] if bar.hits[s, v] else " " for v in range(N_VOICES)]
                for s in range(STEPS)]
        assert marks.tolist() == want
        assert set("".join(marks.ravel())) - {" "}, "no lean marks drawn"
        term.keys("Q")
        _, marks = marks_from_screen(term.wait_for("straightened"))
        assert set(marks.ravel()) == {" "}
        term.keys("q")
        end = time.monotonic() + 10
        while time.monotonic() < end and "▸1" in term.screen():
            time.sleep(0.1)
        assert st.Studio.load(data / st.SESSION_FILE).current == bar.straight()
    finally:
        term.close()


def test_humanize_and_tap_mode_in_tmux(tmp_path):
    """H humanises the bar (same hits, lean marks appear); i counts in, space taps a bar, and
    drumify fills the slot with a bar that holds the taps."""
    data = tmp_path / "data"
    cmd = f"{shlex.quote(sys.executable)} -m drumfont tui --rules --no-midi"
    term = Term(tmp_path, cmd, {"DRUMFONT_DATA_DIR": str(data), "TERM": "xterm-256color"})
    try:
        first = grid_from_screen(term.wait_for("▸1"))
        # the engine loads after the first frame and says so in the status line: let that pass
        # first, or it can replace "humanised slot 1" between two looks at the screen
        term.wait_for("engine: rules (started", timeout=60)
        term.keys("H")
        cells, marks = marks_from_screen(term.wait_for("humanised slot 1", timeout=60))
        assert np.array_equal(np.isin(cells, list("oxX")), first)
        assert set("".join(marks.ravel())) - {" "}, "humanised, yet no lean marks drawn"
        term.keys("i")
        term.wait_for("count-in")
        term.wait_for("tap! beat 1/4", timeout=10)
        for _ in range(4):  # paced like a player's taps; what lands where is the app's business
            term.keys("Space")
            time.sleep(0.3)
        screen = term.wait_for("drumified the taps", timeout=60)
        drumified = grid_from_screen(screen)
        saved = st.Studio.load(data / st.SESSION_FILE).current
        assert drumified.any() and np.array_equal(drumified, saved.hits)
        assert drumified.any(1).sum() >= 3  # the taps' steps (two may share one at a fast tempo)
        term.keys("q")
    finally:
        term.close()


def test_phrase_bars_fill_continue_and_song_in_tmux(tmp_path):
    """A fresh studio holds a 4-bar phrase: `>` and `<` move the grid between its bars (the line
    under the grid says which), `z` re-rolls only the fill, `o` says why it cannot continue on the
    rules, and the song view adds a section, plays its phrase twice and exports the song."""
    data = tmp_path / "data"
    cmd = f"{shlex.quote(sys.executable)} -m drumfont tui --rules --no-midi --no-audio"
    term = Term(tmp_path, cmd, {"DRUMFONT_DATA_DIR": str(data), "TERM": "xterm-256color"})
    try:
        screen = term.wait_for("bar 1/4")
        assert "[1]" in screen and "4f" in screen and "4-bar" in screen
        phrase = st.Studio.load(data / st.SESSION_FILE).phrase
        assert np.array_equal(grid_from_screen(screen), phrase.bars[0].hits)
        term.keys(">")
        assert np.array_equal(grid_from_screen(term.wait_for("bar 2/4")), phrase.bars[1].hits)
        term.keys("<", "<")
        screen = term.wait_for("(its fill)")
        assert "bar 4/4" in screen and np.array_equal(grid_from_screen(screen), phrase.bars[3].hits)
        term.keys("z")
        screen = term.wait_for("re-rolled the fill")
        after = st.Studio.load(data / st.SESSION_FILE).phrase
        assert after.bars[:3] == phrase.bars[:3] and after.bars[3] != phrase.bars[3]
        assert np.array_equal(grid_from_screen(screen), after.bars[3].hits)
        term.keys("o")
        term.wait_for("continue needs the phrase model")
        term.keys("Tab", "Tab", "Tab")
        term.wait_for("no sections yet")
        term.keys("a")
        screen = term.wait_for("added part 1")
        assert "1 section · 4 bars" in screen
        term.keys("+")
        screen = term.wait_for("2 times")
        assert "8 bars" in screen and all(len(line) <= 80 for line in screen.splitlines())
        term.keys("e")
        term.wait_for("export the song (8 bars)")
        term.keys("Enter")
        term.wait_for("wrote 8 bars")
        song = read_patterns(tmp_path / "drumfont-rock-song.mid")
        assert len(song) == 8 and [b.hits.tolist() for b in song[4:]] == [b.hits.tolist() for b in after.bars]
        term.keys("q")
    finally:
        term.close()
