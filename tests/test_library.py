"""Batch MIDI import: bad files skipped with their cause, labels, split, CLI behaviour."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import mido
import numpy as np
import pytest

from drumfont.cli import main
from drumfont.drums import library
from drumfont.drums import rules as grooves
from drumfont.drums.dataset import DrumDataset
from drumfont.errors import DrumfontError, FileExistsNoForce, MidiFileError
from drumfont.score.midifile import to_midi_bytes
from drumfont.score.pattern import Pattern


def _bars(genre: str, n: int, seed: int = 0) -> list[Pattern]:
    return grooves.generate(genre, n, np.random.default_rng(seed))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _good(path: Path, genre: str = "rock", n: int = 4, seed: int = 0) -> Path:
    return _write(path, to_midi_bytes(_bars(genre, n, seed)))


def _mido_bytes(tracks: list[list], tpb: int = 480) -> bytes:
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for events in tracks:
        mid.tracks.append(mido.MidiTrack(events))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


# Each bad case: (file name, bytes or a maker, words the cause must contain)
def _bad_files(folder: Path) -> dict[str, str]:
    """Write one file per way a MIDI file can be bad; return name -> expected words in the cause."""
    good = to_midi_bytes(_bars("jazz", 2))
    _write(folder / "notes.mid", b"this is a shopping list, not music\n")
    _write(folder / "truncated.mid", good[: len(good) // 2])
    _write(folder / "zero_tracks.mid", b"MThd" + struct.pack(">IHHH", 6, 1, 0, 480))
    _write(folder / "piano.mid", _mido_bytes([[mido.Message("note_on", channel=0, note=60, velocity=90),
                                              mido.Message("note_off", channel=0, note=60, time=480)]]))
    with open(folder / "huge.mid", "wb") as fh:  # sparse: costs no disk
        fh.write(good[:64])
        fh.truncate(65 * 2**20)
    # A note four-byte-delta ticks away: more bars than any drum file has.
    far = b"\x00\xff\x58\x04\x04\x02\x18\x08" + b"\xff\xff\xff\x7f\x99\x24\x64" + b"\x00\xff\x2f\x00"
    _write(folder / "endless.mid", b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
           + b"MTrk" + struct.pack(">I", len(far)) + far)
    os.symlink(folder / "nowhere.mid", folder / "dangling.mid")
    return {"notes.mid": "not a MIDI file", "truncated.mid": "truncated", "zero_tracks.mid": "zero tracks",
            "piano.mid": "no drum notes", "huge.mid": "too large", "endless.mid": "bars",
            "dangling.mid": "cannot read"}


def test_each_bad_file_alone_is_one_clear_error(tmp_path):
    expected = _bad_files(tmp_path / "bad")
    for name, words in expected.items():
        with pytest.raises(MidiFileError) as err:
            library.import_library([tmp_path / "bad" / name], tmp_path / f"{name}.npz")
        assert name in str(err.value) and words in str(err.value), str(err.value)
        assert not (tmp_path / f"{name}.npz").exists()
    with pytest.raises(MidiFileError, match="missing.mid: cannot read"):
        library.import_library([tmp_path / "missing.mid"], tmp_path / "m.npz")


def test_batch_skips_bad_files_and_imports_the_rest(tmp_path):
    expected = _bad_files(tmp_path / "lib" / "bad")
    _good(tmp_path / "lib" / "a.mid", "rock", 3, seed=1)
    _good(tmp_path / "lib" / "deep" / "er" / "B.MIDI", "latin", 5, seed=2)  # suffix case-insensitive
    _write(tmp_path / "lib" / "readme.txt", b"not walked")
    out = tmp_path / "lib.npz"
    report = library.import_library([tmp_path / "lib"], out, workers=1)
    assert report.files == 2 + len(expected)
    assert report.files_ok == 2 and report.bars == 8
    causes = {Path(f).name: c for f, c in report.bad}
    assert set(causes) == set(expected)
    for name, words in expected.items():
        assert words in causes[name], (name, causes[name])
    data = DrumDataset.load(out)
    assert len(data) == 8 and data.genres == () and (data.genre == -1).all()
    assert [Path(f).name for f, _ in data.sources] == ["a.mid"] * 3 + ["B.MIDI"] * 5
    assert [b for _, b in data.sources] == [1, 2, 3, 1, 2, 3, 4, 5]
    assert data.pattern(0) == _bars("rock", 3, seed=1)[0]
    summary = report.summary()
    assert "8 bars from 2 of 9 files" in summary and "zero tracks" in summary


def test_meter_and_empty_bars_are_counted(tmp_path):
    # Two bars of 3/4, then 4/4 with a drum bar, an empty bar and another drum bar.
    rock = _bars("rock", 2)
    body = to_midi_bytes([rock[0], Pattern.empty(), rock[1]])
    mid = mido.MidiFile(file=io.BytesIO(body))
    bar34 = 3 * 480
    conductor = [mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
                 mido.MetaMessage("time_signature", numerator=4, denominator=4, time=2 * bar34)]
    drums = [mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
             mido.Message("note_off", channel=9, note=36, time=bar34)]
    first = True
    for msg in mid.tracks[1]:
        if msg.is_meta:
            continue
        if first:  # the 4/4 part starts after the two 3/4 bars
            msg = msg.copy(time=msg.time + bar34)
            first = False
        drums.append(msg)
    _write(tmp_path / "odd.mid", _mido_bytes([conductor, drums]))
    report = library.import_library([tmp_path / "odd.mid"], tmp_path / "odd.npz")
    assert report.skipped_meter == 2 and report.empty_bars == 1 and report.bars == 2
    data = DrumDataset.load(tmp_path / "odd.npz")
    assert data.pattern(0) == rock[0] and data.pattern(1) == rock[1]
    assert [b for _, b in data.sources] == [3, 5]


def test_style_from_folder_and_stratified_split(tmp_path):
    for i in range(5):
        _good(tmp_path / "Rock" / f"r{i}.mid", "rock", 4, seed=i)
        _good(tmp_path / "jazz" / f"j{i}.mid", "jazz", 4, seed=i)
    report = library.import_library([tmp_path], tmp_path / "out.npz", style_from_folder=True, workers=2)
    data = DrumDataset.load(tmp_path / "out.npz")
    assert data.genres == ("jazz", "rock")
    for f, g in zip((s for s, _ in data.sources), data.genre):
        assert data.genres[g] == Path(f).parent.name.lower()
    assert report.per_genre == {"jazz": 20, "rock": 20}
    for g in (0, 1):
        assert (data.split[data.genre == g] == 1).sum() == 4  # 20 % of each genre: one whole file
    assert report.table == {"jazz": [16, 4, 0, 4, 1, 0], "rock": [16, 4, 0, 4, 1, 0]}


def _sides(data: DrumDataset) -> dict[int, set[int]]:
    sides: dict[int, set[int]] = {}
    for f, s in zip(data.sources.file_index, data.split):
        sides.setdefault(int(f), set()).add(int(s))
    return sides


def test_split_is_by_file_never_by_bar(tmp_path):
    # files of different lengths, two genres: every file's bars sit on one side, the validation
    # share is near 20 % of each genre's bars, and the seed decides which files
    for i in range(12):
        _good(tmp_path / ("rock" if i % 2 else "latin") / f"f{i}.mid", "rock" if i % 2 else "latin", 2 + i, seed=i)
    splits = []
    for seed in (0, 1):
        library.import_library([tmp_path], tmp_path / f"s{seed}.npz", style_from_folder=True, seed=seed)
        data = DrumDataset.load(tmp_path / f"s{seed}.npz")
        assert all(len(s) == 1 for s in _sides(data).values())  # no file on both sides
        for g in range(2):
            share = (data.split[data.genre == g] == 1).mean()
            assert 0.1 <= share <= 0.3, share
        splits.append(data.split)
    assert not np.array_equal(*splits)
    library.import_library([tmp_path], tmp_path / "again.npz", style_from_folder=True, seed=0)
    assert (tmp_path / "again.npz").read_bytes() == (tmp_path / "s0.npz").read_bytes()


def test_manifest_labels_and_splits(tmp_path, capsys):
    lib = tmp_path / "lib"
    _good(lib / "a" / "one.mid", "rock", 3, seed=1)
    _good(lib / "a" / "two.mid", "jazz", 2, seed=2)
    _good(lib / "b" / "three.mid", "jazz", 4, seed=3)
    _good(lib / "b" / "four.mid", "latin", 2, seed=4)
    _good(lib / "b" / "unlisted.mid", "latin", 2, seed=5)
    (lib / "m.csv").write_text("path,style,split\na/one.mid,Rock,train\na/two.mid,jazz,validation\n"
                               "b/three.mid,jazz,test\nb/four.mid,,\n")
    out = tmp_path / "m.npz"
    assert main(["data", "import", "--manifest", str(lib / "m.csv"), "--out", str(out)]) == 0
    assert "split (by file): 5 train, 2 validation, 4 test" in capsys.readouterr().out
    data = DrumDataset.load(out)
    assert data.genres == ("jazz", "rock") and len(data.sources.files) == 4
    rows = {Path(f).name: (sorted({int(g) for g in data.genre[data.sources.file_index == i]}),
                           sorted({int(s) for s in data.split[data.sources.file_index == i]}))
            for i, f in enumerate(data.sources.files)}
    assert rows == {"one.mid": ([1], [0]), "two.mid": ([0], [1]), "three.mid": ([0], [2]), "four.mid": ([-1], [0])}


@pytest.mark.parametrize("text, words", [
    ("file,style,split\na.mid,rock,train\n", "missing path"),
    ("path,style,split\na.mid,rock,dev\n", "line 2: unknown split 'dev'"),
    ("path,style,split\na.mid,rock,train\n,rock,train\n", "line 3: empty path"),
    ("path,style,split\na.mid,rock,train\n./a.mid,jazz,train\n", "line 3: ./a.mid is already listed on line 2"),
    ("path,style,split\n", "no rows"),
])
def test_bad_manifest_is_one_line(tmp_path, capsys, text, words):
    _good(tmp_path / "a.mid")
    (tmp_path / "m.csv").write_text(text)
    assert main(["data", "import", "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o.npz")]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.npz").exists()


def test_manifest_excludes_paths_and_style(tmp_path, capsys):
    _good(tmp_path / "a.mid")
    (tmp_path / "m.csv").write_text("path,style,split\na.mid,rock,train\n")
    for extra in ([str(tmp_path / "a.mid")], ["--style", "rock"]):
        assert main(["data", "import", "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o.npz"),
                     *extra]) == 2
        assert "give no paths" in capsys.readouterr().err
    assert main(["data", "import", "--out", str(tmp_path / "o.npz")]) == 2
    assert "no files or folders" in capsys.readouterr().err


def test_style_flag_labels_everything(tmp_path):
    _good(tmp_path / "x" / "a.mid")
    library.import_library([tmp_path / "x"], tmp_path / "o.npz", style="Funk")
    data = DrumDataset.load(tmp_path / "o.npz")
    assert data.genres == ("funk",) and (data.genre == 0).all()


def test_pool_and_serial_give_the_same_bytes(tmp_path):
    for i in range(12):
        _good(tmp_path / "lib" / f"{i:02d}.mid", "hiphop", 3, seed=i)
    _write(tmp_path / "lib" / "05b.mid", b"garbage")
    a = library.import_library([tmp_path / "lib"], tmp_path / "a.npz", workers=1)
    b = library.import_library([tmp_path / "lib"], tmp_path / "b.npz", workers=2)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert a.bad == b.bad and len(a.bad) == 1 and a.bars == 36


def test_nothing_usable_is_an_error(tmp_path):
    _bad_files(tmp_path / "bad")
    with pytest.raises(DrumfontError, match="no usable drum bar in 7 file"):
        library.import_library([tmp_path / "bad"], tmp_path / "o.npz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DrumfontError, match="no .mid or .midi files"):
        library.import_library([tmp_path / "empty"], tmp_path / "o.npz")
    assert not (tmp_path / "o.npz").exists()


def test_refuses_to_overwrite_before_doing_the_work(tmp_path):
    out = _write(tmp_path / "mine.npz", b"precious")
    # The input does not even exist: the refusal must come first.
    with pytest.raises(FileExistsNoForce):
        library.import_library([tmp_path / "nope.mid"], out)
    assert out.read_bytes() == b"precious"
    _good(tmp_path / "g.mid")
    library.import_library([tmp_path / "g.mid"], out, force=True)
    assert len(DrumDataset.load(out)) == 4


def test_cli_bad_single_file_one_line_exit_2(tmp_path, capsys):
    _write(tmp_path / "song.mid", b"RIFF....WAVEfmt ")
    code = main(["data", "import", str(tmp_path / "song.mid"), "--out", str(tmp_path / "o.npz")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "song.mid" in err and "not a MIDI file" in err
    assert "Traceback" not in err


def test_cli_import_and_no_overwrite(tmp_path, capsys):
    _good(tmp_path / "lib" / "rock" / "a.mid")
    _write(tmp_path / "lib" / "rock" / "broken.mid", b"MThd")
    out = tmp_path / "o.npz"
    args = ["data", "import", str(tmp_path / "lib"), "--out", str(out), "--style-from-folder"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "4 bars from 1 of 2 files" in printed and "broken.mid" in printed
    before = out.read_bytes()
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0 and out.read_bytes() == before


def test_all_channels_and_each_file_once(tmp_path):
    # Drums written on channel 1 (a keyboard-played kit): refused by default, taken with the option.
    body = to_midi_bytes(_bars("electronic", 3))
    mid = mido.MidiFile(file=io.BytesIO(body))
    for track in mid.tracks:
        for i, msg in enumerate(track):
            if not msg.is_meta:
                track[i] = msg.copy(channel=0)
    buf = io.BytesIO()
    mid.save(file=buf)
    f = _write(tmp_path / "keys.mid", buf.getvalue())
    with pytest.raises(MidiFileError, match="--all-channels"):
        library.import_library([f], tmp_path / "a.npz")
    report = library.import_library([tmp_path, f], tmp_path / "b.npz", all_channels=True)
    assert report.files == 1 and report.bars == 3


def test_progress_goes_to_stderr(tmp_path, capsys):
    for i in range(3):
        _good(tmp_path / "lib" / f"{i}.mid", seed=i)
    library.import_library([tmp_path / "lib"], tmp_path / "o.npz", progress=True)
    captured = capsys.readouterr()
    assert "3/3" in captured.err and captured.out == ""


def test_thousands_of_skips_are_grouped_by_cause_and_logged(tmp_path, capsys):
    # 30 bad files of two kinds beside one good one: the summary counts causes and lists a few,
    # the skip log lists every file.
    for i in range(25):
        _write(tmp_path / "lib" / f"text{i:02d}.mid", b"not music")
    for i in range(5):
        _write(tmp_path / "lib" / f"cut{i}.mid", b"MThd" + struct.pack(">IHHH", 6, 1, 0, 480))
    _good(tmp_path / "lib" / "ok.mid")
    log = tmp_path / "skipped.tsv"
    args = ["data", "import", str(tmp_path / "lib"), "--out", str(tmp_path / "o.npz"), "--skip-log", str(log),
            "--workers", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "skipped files by cause (30 in all" in printed
    counts = {line.split(None, 1)[1]: int(line.split(None, 1)[0]) for line in printed.splitlines()
              if line.startswith("    ") and line.split(None, 1)[0].isdigit()}
    assert sorted(counts.values()) == [5, 25] and "not a MIDI file" in counts
    assert printed.count("e.g. ") == 6 and "cut0.mid: the file has zero tracks" in printed  # 3 of each
    rows = log.read_text().splitlines()
    assert len(rows) == 30 and all("\t" in r for r in rows)
    assert main(args) == 2  # the log, like the dataset, is not overwritten without --force
