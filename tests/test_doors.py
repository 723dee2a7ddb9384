"""The doors (drumfont/doors.py) and the examples of issue 15, one per kind of gap: each gives
one line on stderr and exit code 2 (or works, where a user can reasonably mean the value)."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from drumfont import validate as doors
from drumfont.cli import main
from drumfont.errors import DrumfontError, MidiFileError
from drumfont.score.midifile import write_midi
from drumfont.score.pattern import from_text

ROOT = Path(__file__).resolve().parents[1]
GROOVE = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


@contextmanager
def deadline(seconds: int):
    """A hang becomes a test failure instead of a stuck suite."""
    def boom(*_):
        raise TimeoutError(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(capsys, *argv, seconds: int = 60) -> tuple[int, str, str]:
    with deadline(seconds):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's own refusals
            rc = exc.code
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def refused(capsys, *argv, message: str = "", seconds: int = 60) -> str:
    rc, _, err = run(capsys, *argv, seconds=seconds)
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert message.lower() in err.lower(), err
    return err


def midi_with_system_byte(path: Path) -> Path:
    """A valid drum file whose track holds an MTC quarter-frame status (0xF1) and a data byte,
    then a note-on in running status: the scanner raised KeyError here."""
    events = bytes([0x00, 0x99, 36, 100,  0x00, 0xF1, 0x05,  0x60, 38, 90,  0x00, 0xFF, 0x2F, 0x00])
    data = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + events
    path.write_bytes(data)
    return path


# --- the MIDI reader -------------------------------------------------------------------------

def test_system_status_byte_in_a_track_is_skipped(tmp_path, capsys):
    from drumfont.score.midifile import read_midi

    f = midi_with_system_byte(tmp_path / "sys.mid")
    with pytest.raises(MidiFileError, match="running status"):  # system common cancels it: not a KeyError
        read_midi(f)
    refused(capsys, "interpolate", "--from", f, "--to", "rock", "-o", tmp_path / "o.mid", message="sys.mid")
    refused(capsys, "transfer", f, "--to", "rock", "-o", tmp_path / "o.mid", message="sys.mid")
    refused(capsys, "play", "--file", f, "--bars", "1", message="sys.mid")


def test_data_import_reports_the_cause_not_an_unexpected_exception(tmp_path, capsys):
    (tmp_path / "lib").mkdir()
    midi_with_system_byte(tmp_path / "lib" / "a.mid")
    write_midi(tmp_path / "lib" / "b.mid", [GROOVE])
    rc, out, _ = run(capsys, "data", "import", tmp_path / "lib", "--out", tmp_path / "d.npz", "--workers", "1")
    assert rc == 0 and "unexpected" not in out


# --- odd files -------------------------------------------------------------------------------

def test_a_fifo_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    refused(capsys, "transfer", fifo, "--to", "rock", "-o", tmp_path / "o.mid", message="FIFO", seconds=20)
    lib = tmp_path / "lib"
    lib.mkdir()
    os.mkfifo(lib / "x.mid")
    write_midi(lib / "ok.mid", [GROOVE])
    rc, out, _ = run(capsys, "data", "import", lib, "--out", tmp_path / "d.npz", "--workers", "1", seconds=20)
    assert rc == 0 and "FIFO" in out


def test_a_device_is_refused_not_read_to_the_end(tmp_path, capsys):
    refused(capsys, "transfer", "/dev/zero", "--to", "rock", "-o", tmp_path / "o.mid", message="device", seconds=20)
    refused(capsys, "play", "--pattern", "/dev/zero", message="device", seconds=20)


def test_read_capped_does_not_trust_st_size(tmp_path):
    f = tmp_path / "big"
    f.write_bytes(b"x" * 101)
    assert doors.read_capped(f, 101) == b"x" * 101
    with pytest.raises(DrumfontError, match="too large"):
        doors.read_capped(f, 100)


def test_read_capped_reserves_the_file_not_the_cap(tmp_path):
    """Issue 21.1: a 1 KB file read with the 2 GB checkpoint cap fits in a 1 GB address space
    (it asked for the whole cap up front: MemoryError for any preset under `prlimit --as=2G`)."""
    f = tmp_path / "small.pt"
    f.write_bytes(os.urandom(1000))
    code = ("import resource, sys; from drumfont import validate as doors; "
            "resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)); "
            f"data = doors.read_capped({str(f)!r}, doors.MAX_CHECKPOINT_BYTES, 'checkpoint'); "
            "print(len(data))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0 and res.stdout.strip() == "1000", res.stderr[-500:]


def test_read_capped_reads_a_file_that_grew_past_its_size_and_refuses_past_the_cap(tmp_path, monkeypatch):
    f = tmp_path / "grows"
    f.write_bytes(b"y" * (3 * doors.READ_CHUNK + 5))
    real = os.fstat

    def shrunk(fd):  # st_size says less than is there (a file still being written)
        st = real(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))
    monkeypatch.setattr(doors.os, "fstat", shrunk)
    assert doors.read_capped(f, 4 * doors.READ_CHUNK) == b"y" * (3 * doors.READ_CHUNK + 5)
    with pytest.raises(DrumfontError, match="too large"):
        doors.read_capped(f, 2 * doors.READ_CHUNK)


def test_input_names_too_long_to_look_up_are_one_line(tmp_path, capsys):
    """Issue 21.12: pathlib's is_file/is_dir raise ENAMETOOLONG on Python 3.11, which was a
    traceback wherever a name was looked up before it was opened."""
    long = "a" * 300
    refused(capsys, "interpolate", "--from", long, "--to", "rock", "-o", tmp_path / "i.mid", message="unknown genre")
    refused(capsys, "data", "import", long, "--out", tmp_path / "d.npz", message="too long")
    refused(capsys, "data", "fonts", "--fonts", long, "--out", tmp_path / "f.npz", message="no such font folder")
    refused(capsys, "report", "gan", "--run", long, "--out", tmp_path / "r", message="run folder")


def png_header(width: int, height: int) -> bytes:
    """A PNG that states its size and holds one row of data: a decoder refuses or accepts it from
    the header alone, so the test allocates nothing like width × height."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("side, message", [(20_000, "megapixels"), (9_000, "9,000 × 9,000 pixels")])
def test_a_style_image_too_large_to_decode_is_one_line(tmp_path, capsys, side, message):
    """Issue 21.12: a 20000×20000 PNG (2 MB) was Pillow's DecompressionBombError, a traceback;
    9000×9000 passed Pillow's check and was decoded (81 MB, then a float copy of 324 MB)."""
    png = tmp_path / "big.png"
    png.write_bytes(png_header(side, side))
    refused(capsys, "letters", "HI", "--style-from", png, "-o", tmp_path / "l.png", message=message)
    refused(capsys, "font", "--style-from", png, "-o", tmp_path / "f.otf", message=message)
    (tmp_path / "junk.png").write_bytes(b"not a picture")
    refused(capsys, "letters", "HI", "--style-from", tmp_path / "junk.png", "-o", tmp_path / "l.png",
            message="cannot read the image (not a format Pillow knows")


# --- output paths ----------------------------------------------------------------------------

def test_output_names_over_255_bytes_are_one_line(tmp_path, capsys):
    refused(capsys, "letters", "AB", "-o", tmp_path / ("a" * 252 + ".png"), message="255")
    refused(capsys, "interpolate", "--from", "rock", "--to", "jazz", "-o", tmp_path / ("é" * 130 + ".mid"),
            message="255")


@pytest.mark.parametrize("argv, wants", [
    (["humanize", "{t}/g.mid", "-o", "{t}/x.wav"], ".mid, .midi"),
    (["drumify", "{t}/g.mid", "-o", "{t}/x.wav"], ".mid, .midi"),
    (["transfer", "{t}/g.mid", "--to", "jazz", "-o", "{t}/x.wav"], ".mid, .midi"),
    (["interpolate", "--from", "rock", "--to", "jazz", "-o", "{t}/x.png"], ".mid, .midi"),
    (["data", "drums", "--out", "{t}/x.wav"], ".npz"),
    (["data", "import", "{t}/g.mid", "--out", "{t}/x.mid"], ".npz"),
    (["data", "import", "{t}/g.mid", "--out", "{t}/x.npz", "--skip-log", "{t}/x.mid"], ".tsv, .txt, .log"),
    (["data", "fonts", "--out", "{t}/x"], ".npz"),
    (["train", "vae", "--data", "{t}/d.npz", "--out", "{t}/x.mid"], ".pt, .pth, .safetensors"),
    (["train", "humanize", "--data", "{t}/d.npz", "--out", "{t}/x.wav"], ".pt, .pth, .safetensors"),
])
def test_every_writer_checks_its_suffix_before_any_work(tmp_path, capsys, argv, wants):
    """Issue 21.14: `humanize -o x.wav` wrote MIDI bytes into a .wav; each writer names what it
    writes and refuses any other suffix, before any work (no file is made)."""
    write_midi(tmp_path / "g.mid", [GROOVE])
    (tmp_path / "d.npz").write_bytes(b"not read: the name is refused first")
    before = set(tmp_path.iterdir())
    refused(capsys, *[a.replace("{t}", str(tmp_path)) for a in argv], message=f"writes {wants} files")
    assert set(tmp_path.iterdir()) == before


def test_the_midi_writer_refuses_a_name_of_another_kind(tmp_path):
    with pytest.raises(DrumfontError, match="writes .mid, .midi files"):
        write_midi(tmp_path / "bar.wav", [GROOVE])
    assert write_midi(tmp_path / "bar.MIDI", [GROOVE]).is_file()  # the case of a suffix is the user's


def test_long_folder_names_are_one_line(tmp_path, capsys):
    long = tmp_path / ("d" * 300)
    refused(capsys, "report", "vae", "--out", long, message="255")
    refused(capsys, "export", "--rules", "--style", "rock", "-n", "1", "--out", long, message="255")


def test_a_251_byte_name_is_written(tmp_path, capsys):
    name = "m" * 247 + ".mid"
    rc, out, err = run(capsys, "interpolate", "--from", "rock", "--to", "jazz", "--steps", "2", "-o", tmp_path / name)
    assert rc == 0, err
    assert (tmp_path / name).is_file()


def test_a_dangling_symlink_is_not_replaced_without_force(tmp_path, capsys):
    link = tmp_path / "out.mid"
    link.symlink_to(tmp_path / "missing.mid")
    refused(capsys, "interpolate", "--from", "rock", "--to", "jazz", "-o", link, message="--force")
    assert link.is_symlink()


def test_the_next_write_removes_temp_files_a_killed_run_left(tmp_path):
    from drumfont.atomic import write_atomic

    dead = tmp_path / ".drumfont-999999999-0123abcd.tmp"   # no such process
    live = tmp_path / f".drumfont-{os.getppid()}-0123abcd.tmp"  # a live process's: kept
    dead.write_bytes(b"half")
    live.write_bytes(b"busy")
    write_atomic(tmp_path / "x.bin", b"data")
    assert not dead.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "x.bin"])


def test_a_refused_run_still_removes_the_temp_a_killed_one_left(tmp_path, capsys):
    """Issue 21.18: a killed export's hidden temp file stayed beside the files until a run with
    --force wrote there; the next run into the folder removes it even when it refuses to write."""
    out = tmp_path / "bars"
    assert run(capsys, "export", "--rules", "--style", "rock", "-n", "2", "--out", out)[0] == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stray = out / f".drumfont-{int(gone.stdout)}-0123abcd.tmp"  # its process has ended
    stray.write_bytes(b"half a file")
    refused(capsys, "export", "--rules", "--style", "rock", "-n", "2", "--out", out, message="exists")
    assert not stray.exists()


# --- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["export", "--style", "rock", "--seed", "-1"], "0..4,294,967,295"),
    (["export", "--style", "rock", "--seed", str(2**70)], "seed"),
    (["export", "--style", "rock", "--temperature", "nan"], "finite"),
    (["export", "--style", "rock", "--temperature", "inf"], "finite"),
    (["export", "--style", "rock", "-n", "100000000"], "10,000"),
    (["export", "--style", "rock", "--bars", "5000000"], "1,024"),
    (["export", "--style", "rock", "-n", "10000", "--bars", "1000", "--single-file"], "100,000 bars"),
    (["interpolate", "--from", "rock", "--to", "jazz", "--steps", "100000000", "-o", "{t}/m.mid"], "1,000"),
    (["play", "--bars", "0"], "1..1,000,000"),
    (["play", "--bpm", "nan"], "finite"),
    (["export", "--style", "rock", "--gate", "0"], "(0, 1]"),
    (["letters", "AB", "-o", "{t}/a.png", "--scale", "0"], "1..64"),
    (["train", "vae", "--kl-ratio", "0"], "kl"),
    (["train", "vae", "--threads", "0"], "1..256"),
    (["train", "vae", "--lr", "nan"], "finite"),
    (["train", "vae", "--stop-after", "-1"], "1..100,000"),
    (["train", "gan", "--threads", "0"], "1..256"),
    (["train", "style-classifier", "--lr", "inf"], "finite"),
])
def test_out_of_range_values_are_refused_up_front(tmp_path, capsys, argv, message):
    argv = [a.replace("{t}", str(tmp_path)) for a in argv]
    if argv[0] == "export":
        argv += ["--out", str(tmp_path / "e")]
    refused(capsys, *argv, message=message, seconds=30)
    assert not (tmp_path / "e").exists()


def test_range_check():
    r = doors.RANGES["bpm"]
    assert r.check(120, "bpm") == 120.0
    for bad in (float("nan"), float("inf"), 19.9, 301, "fast", None, True):
        with pytest.raises(DrumfontError):
            r.check(bad, "bpm", "session.json")
    assert doors.RANGES["seed"].check(3.0, "seed") == 3
    with pytest.raises(DrumfontError, match="whole"):
        doors.RANGES["seed"].check(3.5, "seed")


# --- files of ours ---------------------------------------------------------------------------

def test_a_note_map_that_is_json_but_not_an_object(tmp_path, capsys):
    f = tmp_path / "map.json"
    for text in ("[1, 2]", "3", '"gm"', '{"notes": [36]}', '{"notes": {"kick": true}}', "\xff"):
        f.write_bytes(text.encode("latin-1"))
        refused(capsys, "interpolate", "--from", "rock", "--to", "jazz", "-o", tmp_path / "m.mid",
                "--notemap", f, message="map.json")


def test_presets_that_are_text_or_of_the_wrong_types(tmp_path, capsys):
    import torch

    from drumfont.checkpoint import save_checkpoint

    text = tmp_path / "text.pt"
    text.write_text("hello, I am a preset\n")
    refused(capsys, "export", "--style", "rock", "--preset", text, "--out", tmp_path / "e", message="text.pt")
    cases = {
        "kind.pt": {"format": 1, "kind": ["vae"], "config": {}, "state_dict": {}},
        "fmt.pt": {"format": "one", "kind": "vae", "config": {}, "state_dict": {}},
        "cfg.pt": {"format": 1, "kind": "vae", "config": {"model": {"z_low": "twelve"}}, "state_dict": {}},
        "huge.pt": {"format": 1, "kind": "vae", "config": {"model": {"z_low": 10**9}}, "state_dict": {}},
        "nocfg.pt": {"format": 1, "kind": "vae", "config": 5, "state_dict": {}},
    }
    for name, blob in cases.items():
        torch.save(blob, tmp_path / name)
        refused(capsys, "export", "--style", "rock", "--preset", tmp_path / name, "--out", tmp_path / "e",
                message=name)
    # A real model whose genre Gaussians are damaged: a covariance that is not positive definite.
    import numpy as np

    from drumfont.nn import preset as presets
    from drumfont.paths import preset_path

    blob = presets.load(preset_path("drums_vae.safetensors"), "vae")
    for field, value in [("genre_cov", -np.ones_like(blob["extras"]["genre_cov"])),
                         ("genre_mean", "mean"), ("genres", 5), ("genres_present", [99])]:
        extras = {**blob["extras"], field: value}
        # as an old torch checkpoint and as a preset: the same checks, the same one line
        tensors = {k: torch.tensor(v) for k, v in blob["state_dict"].items()}
        torch_extras = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in extras.items()}
        save_checkpoint(tmp_path / "bad.pt", "vae", blob["config"], tensors, extras=torch_extras)
        presets.save_preset(tmp_path / "bad.safetensors", "vae", blob["config"], blob["state_dict"], extras)
        for bad in ("bad.pt", "bad.safetensors"):
            refused(capsys, "export", "--style", "rock", "--preset", tmp_path / bad, "--out", tmp_path / "e",
                    message=field)


def test_a_binary_pattern_file(tmp_path, capsys):
    f = tmp_path / "p.txt"
    f.write_bytes(b"KK \xff\xfe\x00x...")
    refused(capsys, "play", "--pattern", f, message="UTF-8")


def test_history_with_a_torn_last_line(tmp_path):
    from drumfont.trainers.common import History

    h = History(tmp_path / "h.jsonl")
    h.write({"epoch": 0})
    h.write({"epoch": 1})
    with (tmp_path / "h.jsonl").open("a") as fh:
        fh.write('{"epoch": 2, "lo')
    assert [r["epoch"] for r in h.read()] == [0, 1]
    h.truncate_after("epoch", 0)
    assert [r["epoch"] for r in h.read()] == [0]
    (tmp_path / "h.jsonl").write_text('{"epoch": 0}\nGARBAGE\n{"epoch": 1}\n')
    with pytest.raises(DrumfontError, match="line 2"):
        h.read()


def test_report_vae_on_data_lacking_some_genres_and_on_one_bar(tmp_path, capsys):
    import numpy as np

    from drumfont.drums.dataset import DrumDataset

    rows = np.stack([GROOVE.velocities] * 6)
    DrumDataset(rows, np.array([0, 0, 0, 1, 1, 1], np.int16), np.array([0, 1, 0, 0, 1, 0], np.uint8),
                ("rock", "jazz")).save(tmp_path / "two.npz")
    from drumfont import drums
    from drumfont.drums import report as vae_report

    # The metrics are where it broke (the figures are drawn from the same arrays).
    m, _ = vae_report.compute_metrics(drums.load(), DrumDataset.load(tmp_path / "two.npz"), None, samples=8)
    assert "overlap_area" in m["per_genre"]["rock"] and "overlap_area" not in m["per_genre"]["latin"]
    DrumDataset(rows[:1], np.array([0], np.int16), np.array([0], np.uint8), ("rock",)).save(tmp_path / "one.npz")
    refused(capsys, "report", "vae", "--data", tmp_path / "one.npz", "--out", tmp_path / "r1", "--samples", "20",
            message="at least 4", seconds=300)


def _options(dest: str):
    """(command, argparse action) of every subcommand's option stored in `dest`."""
    import argparse

    from drumfont.cli import build_parser

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, path + [name])
            elif action.dest == dest:
                yield " ".join(path), action
    return list(walk(build_parser(), []))


def test_temperature_has_one_range_stated_where_the_option_is(tmp_path, capsys):
    found = _options("temperature")
    assert {cmd for cmd, _ in found} >= {"export", "render", "humanize", "drumify", "play", "report vae"}
    text = doors.RANGES["temperature"].text()
    for cmd, action in found:
        assert action.type.__name__ == "temperature" and text in action.help, cmd
    # humanize and drumify took 0..10 where every other command and the docs said 0..5
    src = tmp_path / "in.mid"
    write_midi(src, [GROOVE])
    for argv in (["export", "--style", "rock", "-o", tmp_path / "e"], ["humanize", src, "-o", tmp_path / "h.mid"],
                 ["drumify", src, "-o", tmp_path / "d.mid"]):
        rc, _, err = run(capsys, *argv, "--temperature", "7")
        assert rc == 2 and text in err and err.count("\n") == 1, argv


def test_the_groove_models_check_the_same_range():
    from drumfont.drums import groove

    with pytest.raises(DrumfontError, match=r"0\.\.5"):
        groove.humanize([GROOVE], None, 1.0, 7.0, 0)


def test_the_studio_keys_and_session_files_use_the_same_temperature_range(tmp_path):
    from drumfont.tui import session as st

    r = doors.RANGES["temperature"]
    s = st.Studio()
    assert s.nudge_temperature(100) == r.hi and s.nudge_temperature(-100) == r.lo   # was 0.1..2.0
    s.temperature = 3.0
    s.save(tmp_path / "s.json")
    assert st.Studio.load(tmp_path / "s.json").temperature == 3.0    # a value the CLI takes, the studio keeps


def test_export_audio_checks_the_synth_before_writing_any_mid(tmp_path, capsys, monkeypatch):
    # issue 21.4: export --audio wrote the .mid files, then failed on the missing FluidSynth
    # library; the rerun after installing it stopped on "exists; pass --force"
    import sys

    out = tmp_path / "ex"
    monkeypatch.setitem(sys.modules, "fluidsynth", None)     # pyfluidsynth or its library missing
    rc, _, err = run(capsys, "export", "--style", "rock", "-n", "2", "--audio", "--out", out)
    assert rc == 2 and ("FluidSynth" in err or "pyfluidsynth" in err)
    assert err.count("\n") == 1 and not (out.exists() and any(out.iterdir()))
    monkeypatch.undo()
    bad = tmp_path / "kit.sf2"
    bad.write_bytes(b"not a soundfont")
    rc, _, err = run(capsys, "export", "--style", "rock", "-n", "2", "--audio", "--soundfont", bad, "--out", out)
    assert rc == 2 and "SoundFont" in err and not (out.exists() and any(out.iterdir()))
    rc, _, err = run(capsys, "render", "--style", "rock", "--soundfont", bad, "-o", tmp_path / "r.wav")
    assert rc == 2 and "SoundFont" in err and not (tmp_path / "r.wav").exists()


# --- sizes (issue 21.15) ---------------------------------------------------------------------

def test_the_limits_page_is_the_table_in_validate():
    """docs/limits.md prints validate.FILE_LIMITS as it is: the limits are written once."""
    page = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    assert doors.limits_table() in page
    for limit in doors.FILE_LIMITS:  # and each door states bytes, with more where a file holds more
        assert limit.max_bytes > 0 and limit.read_by


def test_transfer_reads_at_most_10000_bars(tmp_path, capsys):
    import struct

    events = (b"\x00\x99\x24\x64" + b"\x83\x60\x89\x24\x00") * (4 * 10_001) + b"\x00\xff\x2f\x00"
    big = tmp_path / "long.mid"
    big.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + events)
    refused(capsys, "transfer", big, "--to", "jazz", "-o", tmp_path / "t.mid",
            message="10,001 bars; a model reads at most 10,000 bars of one file")


def test_a_dataset_declaring_more_than_4_gb_is_refused_before_loading(tmp_path):
    """A .npz member's header states its shape: a 1 KB file may declare 8 GB of arrays."""
    import io
    import zipfile

    import numpy as np

    from drumfont.drums.dataset import DrumDataset
    from drumfont.errors import DatasetError

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (2**33 // 144, 16, 9)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("velocities.npy", header.getvalue() + bytes(1024))
    with pytest.raises(DatasetError, match="bytes of arrays; a dataset may declare at most 4,294,967,296"):
        DrumDataset.load(tmp_path / "huge.npz")


def test_a_soundfont_that_is_a_fifo_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "kit.sf2"
    os.mkfifo(fifo)
    refused(capsys, "render", "--style", "rock", "--rules", "-n", "1", "-o", tmp_path / "r.wav",
            "--soundfont", fifo, message="FIFO", seconds=20)
