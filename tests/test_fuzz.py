"""Fuzzing every door with Hypothesis: any input gives a result or a DrumfontError, never another
exception, and within a time bound (Hypothesis' deadline per input). In CI the run is short and
derandomised (the same inputs every time); benchmarks/fuzz_nightly.py runs the same targets for
as long as one likes. Inputs that ever broke a door live in tests/fuzz_corpus/ and are replayed
first."""

from __future__ import annotations

import os
from datetime import timedelta

import fuzz_targets as ft
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drumfont.errors import DrumfontError

settings.register_profile("ci", derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("DRUMFONT_FUZZ_PROFILE", "ci"))

# Examples per door: together about a minute on a loaded 2-core machine.
EXAMPLES = {"midi": 400, "pattern": 400, "session": 250, "session_file": 120, "notemap": 150,
            "notemap_file": 120, "checkpoint": 50}
DEADLINE = {"checkpoint": timedelta(seconds=5)}


def _only_drumfont_errors(target, value) -> None:
    try:
        target(value)
    except DrumfontError as exc:
        assert str(exc) and "\n" not in str(exc).strip(), repr(exc)  # one line for the user


def _door_test(name: str):
    target, strategy = ft.TARGETS[name]

    @settings(max_examples=EXAMPLES[name], deadline=DEADLINE.get(name, timedelta(seconds=2)))
    @given(strategy())
    def test(value):
        _only_drumfont_errors(target, value)
    test.__name__ = f"test_fuzz_{name}"
    return test


test_fuzz_midi = _door_test("midi")
test_fuzz_pattern = _door_test("pattern")
test_fuzz_session = _door_test("session")
test_fuzz_session_file = _door_test("session_file")
test_fuzz_notemap = _door_test("notemap")
test_fuzz_notemap_file = _door_test("notemap_file")
test_fuzz_checkpoint = _door_test("checkpoint")


CORPUS_TARGETS = {"midi": ft.midi_target, "session": ft.session_file_target, "notemap": ft.notemap_file_target,
                  "checkpoint": ft.checkpoint_target,
                  "pattern": lambda b: ft.pattern_target(b.decode("utf-8", "replace"))}


@pytest.mark.parametrize("kind, name", [(k, p.name) for k in CORPUS_TARGETS
                                        for p in sorted((ft.CORPUS / k).glob("*")) if p.is_file()])
def test_seed_corpus_replays(kind, name):
    _only_drumfont_errors(CORPUS_TARGETS[kind], (ft.CORPUS / kind / name).read_bytes())


OPTIONS = ft.typed_options()


def test_every_typed_option_is_found():
    assert len(OPTIONS) > 30 and (["export"], "--seed") in OPTIONS


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(st.sampled_from(OPTIONS), ft.value_text())
def test_fuzz_cli_option_values(option, value):
    """Any text for any typed option: parsed into its range, or one line and exit code 2."""
    path, flag = option
    required = {"export": ["--style", "rock"], "interpolate": ["--from", "a", "--to", "b", "-o", "x.mid"],
                "letters": ["-o", "x.png"], "transfer": ["in.mid", "--to", "rock", "-o", "x.mid"],
                "vae": ["--out", "r"], "gan": ["--out", "r"], "import": ["x", "--out", "d.npz"],
                "drums": ["--out", "d.npz"], "fonts": ["--out", "d.npz"]}
    argv = path + required.get(path[-1], []) + [f"{flag}={value}"]
    try:
        ft.cli_parse_target(argv)
    except SystemExit as exc:
        assert exc.code == 2


@settings(max_examples=60, deadline=timedelta(seconds=10))
@given(n=st.one_of(st.integers(-3, 3), st.integers(10_001, 2**70)).map(str) | ft.value_text(),
       bars=st.one_of(st.integers(-2, 4), st.integers(1025, 2**40)).map(str) | ft.value_text(),
       bpm=ft.value_text(), swing=ft.value_text(), gate=ft.value_text(), seed=ft.value_text(),
       name=st.text(min_size=1, max_size=300).filter(lambda s: "/" not in s and s not in (".", "..")))
def test_fuzz_cli_export_runs(tmp_path_factory, n, bars, bpm, swing, gate, seed, name):
    """`drumfont export --rules` with random values end to end: exit 0 with the files written,
    or exit 2 with one line, never a traceback."""
    out = tmp_path_factory.mktemp("export") / name
    rc, err = ft.cli_run(["export", "--rules", "--style", "rock", "--single-file", "-n", n, "--bars", bars,
                          "--bpm", bpm, "--swing", swing, "--gate", gate, "--seed", seed, "--out", str(out)])
    assert rc in (0, 2), err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    else:
        assert len(list(out.iterdir())) == 1
