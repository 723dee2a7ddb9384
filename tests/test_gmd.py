"""`drumfont data gmd`: a Groove-MIDI-style fixture folder, the served archive, bad info.csv rows."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from http_helpers import serve

from drumfont.cli import main
from drumfont.drums import gmd
from drumfont.drums import rules as grooves
from drumfont.drums.dataset import TEST, TRAIN, VAL, DrumDataset
from drumfont.errors import DrumfontError
from drumfont.score.midifile import ExportOptions, write_midi
from drumfont.score.pattern import Pattern

# (drummer, session/id, style, beat_type, time_signature, split, rule genre, bars)
ROWS = [
    ("drummer1", "s1/1", "rock", "beat", "4-4", "train", "rock", 4),
    ("drummer1", "s1/2", "punk", "fill", "4-4", "train", "rock", 1),
    ("drummer2", "s1/3", "rock/halftime", "beat", "4-4", "validation", "rock", 3),
    ("drummer2", "s1/4", "dance/disco", "beat", "4-4", "train", "electronic", 3),
    ("drummer3", "s1/5", "afrocuban/bembe", "beat", "4-4", "test", "latin", 2),
    ("drummer3", "s1/6", "reggae", "beat", "4-4", "train", "rock", 2),
    ("drummer3", "s1/7", "jazz", "beat", "3-4", "train", "jazz", 2),
    ("drummer4", "s1/8", "jazz/swing", "fill", "4-4", "", "jazz", 2),
    ("drummer4", "s1/9", "jazz", "beat", "4-4", "", "jazz", 5),
]
INFO_HEAD = "drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,audio_filename,duration,split\n"


def _played(genre: str, n: int, seed: int) -> list[Pattern]:
    """Rule bars with a drummer's timing: offsets on every hit, none early on the bar's first step."""
    rng = np.random.default_rng(seed)
    out = []
    for p in grooves.generate(genre, n, rng):
        off = rng.uniform(-0.3, 0.3, (16, 9)).astype(np.float32)
        off[0] = np.abs(off[0])
        out.append(Pattern(p.velocities, np.where(p.velocities > 0, off, 0).astype(np.float32)))
    return out


def make_gmd(root: Path, rows=ROWS) -> dict[str, list[Pattern]]:
    """A Groove-MIDI-style folder: drummerN/sessionM/*.mid and info.csv; returns file -> bars written."""
    written = {}
    lines = [INFO_HEAD]
    for i, (drummer, sid, style, beat, meter, split, genre, n) in enumerate(rows):
        name = f"{drummer}/{sid.split('/')[0]}/{i}_{style.replace('/', '-')}_100_{beat}_{meter}.mid"
        bars = _played(genre, n, seed=i)
        write_midi(root / name, bars, ExportOptions(bpm=100 + 10 * i))
        written[name] = bars
        lines.append(f"{drummer},{drummer}/{sid.split('/')[0]},{drummer}/{sid},{style},{100 + 10 * i},{beat},"
                     f"{meter},{name},{name[:-4]}.wav,9.5,{split}\n")
    (root / "info.csv").write_text("".join(lines))
    return written


def test_fixture_import(tmp_path):
    written = make_gmd(tmp_path / "gmd")
    report = gmd.import_gmd(tmp_path / "gmd", tmp_path / "g.npz", workers=1)
    data = DrumDataset.load(tmp_path / "g.npz")
    assert data.genres == ("rock", "jazz", "electronic", "latin")  # study order, present genres only
    files = [data.sources.files[i] for i in data.sources.file_index]
    by_file = {f: np.flatnonzero(np.array(files) == f) for f in set(files)}
    assert set(by_file) == set(written) - {n for n in written if "reggae" in n or "3-4" in n}
    for name, rows in by_file.items():
        bars = written[name]
        assert len(rows) == len(bars)
        style = name.split("_")[1].split("-")[0]
        assert {data.genres[g] for g in data.genre[rows]} == {gmd.STYLE_GENRES[style]}
        for row, bar in zip(rows, bars):
            got = data.pattern(row)
            assert np.array_equal(got.velocities, bar.velocities)
            hit = bar.velocities > 0
            assert np.abs(got.offsets[hit] - bar.offsets[hit]).max() < 1 / 120 + 1e-3  # a tick + float16
        assert data.fill[rows].all() == ("fill" in name) and len(set(data.split[rows])) == 1
        assert name.startswith("drummer")  # the source is relative: its first folder is the drummer
    split_of = {name: int(data.split[rows[0]]) for name, rows in by_file.items()}
    assert split_of[[n for n in written if "halftime" in n][0]] == VAL
    assert split_of[[n for n in written if "bembe" in n][0]] == TEST
    assert split_of[[n for n in written if "disco" in n][0]] == TRAIN
    # the two jazz files without a split: one per side, whole files (20 % of 7 bars -> the 2-bar file)
    assert split_of["drummer4/s1/7_jazz-swing_100_fill_4-4.mid"] == VAL
    assert split_of["drummer4/s1/8_jazz_100_beat_4-4.mid"] == TRAIN
    assert (report.train, report.val, report.test) == (13, 5, 2)
    assert report.fill_bars == 3 and report.table["rock"] == [5, 3, 0, 2, 1, 0]
    summary = report.summary()
    assert "1 files not in 4/4 by info.csv: 3-4 1" in summary
    assert "reggae 2 bars (1 files)" in summary and "fills: 3 bars; beats: 17 bars" in summary


def test_same_input_same_bytes(tmp_path):
    make_gmd(tmp_path / "gmd")
    gmd.import_gmd(tmp_path / "gmd", tmp_path / "a.npz", workers=1)
    gmd.import_gmd(tmp_path / "gmd", tmp_path / "b.npz", workers=2)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace(",split\n", ",part\n", 1), "missing column(s) split"),
    (lambda t: t.replace(",validation\n", ",holdout\n"), "line 4: unknown split 'holdout'"),
    (lambda t: t.replace(",fill,", ",roll,", 1), "line 3: beat_type 'roll' is neither beat nor fill"),
    (lambda t: t.replace("rock/halftime", "", 1), "line 4: empty style"),
    (lambda t: INFO_HEAD, "no rows"),
])
def test_bad_info_csv_is_one_line(tmp_path, capsys, edit, words):
    make_gmd(tmp_path / "gmd")
    info = tmp_path / "gmd" / "info.csv"
    info.write_text(edit(info.read_text()))
    assert main(["data", "gmd", str(tmp_path / "gmd"), "--out", str(tmp_path / "g.npz")]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    assert not (tmp_path / "g.npz").exists()


def test_missing_info_and_argument_errors(tmp_path, capsys):
    assert main(["data", "gmd", str(tmp_path), "--out", str(tmp_path / "g.npz")]) == 2
    assert "no info.csv" in capsys.readouterr().err
    assert main(["data", "gmd", "--out", str(tmp_path / "g.npz")]) == 2
    assert "FOLDER or --download" in capsys.readouterr().err
    (tmp_path / "g.npz").write_bytes(b"mine")
    assert main(["data", "gmd", "--download", "--out", str(tmp_path / "g.npz")]) == 2  # refused before fetching
    assert "exists" in capsys.readouterr().err


def test_only_dropped_styles_is_an_error(tmp_path):
    make_gmd(tmp_path / "gmd", [r for r in ROWS if r[2] == "reggae"])
    with pytest.raises(DrumfontError, match="no file has a style in the genre table"):
        gmd.import_gmd(tmp_path / "gmd", tmp_path / "g.npz")


def _zip_of(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, "groove/" + f.relative_to(folder).as_posix())  # the official layout
    return buf.getvalue()


def test_download_from_served_zip(tmp_path, monkeypatch, capsys):
    make_gmd(tmp_path / "src")
    gmd.import_gmd(tmp_path / "src", tmp_path / "direct.npz")
    payload = _zip_of(tmp_path / "src")
    monkeypatch.setenv("DRUMFONT_DATA_DIR", str(tmp_path / "data"))
    with serve(payload, drops=1) as (url, srv):
        monkeypatch.setenv(gmd.URL_ENV, url)
        monkeypatch.setenv(gmd.SHA256_ENV, hashlib.sha256(payload).hexdigest())
        out = str(tmp_path / "g.npz")
        assert main(["data", "gmd", "--download", "--out", out]) == 2  # the first response is cut short
        assert "run again to resume" in capsys.readouterr().err
        assert main(["data", "gmd", "--download", "--out", out]) == 0
        assert "imported 20 bars from 7 of 8 files" in capsys.readouterr().out
        assert len(srv.ranges) == 2 and srv.ranges[1].startswith("bytes=")
        # cached: a second import neither downloads nor unpacks again
        assert main(["data", "gmd", "--download", "--out", out, "--force"]) == 0
        assert len(srv.ranges) == 2
    cached = tmp_path / "data" / "datasets"
    assert (cached / "groove-test.zip").stat().st_size == len(payload)
    assert (cached / "groove-test" / "groove" / "info.csv").is_file()
    direct, fetched = DrumDataset.load(tmp_path / "direct.npz"), DrumDataset.load(out)
    assert np.array_equal(direct.velocities, fetched.velocities) and direct.sources == fetched.sources
    assert np.array_equal(direct.split, fetched.split)


def test_download_bad_checksum(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DRUMFONT_DATA_DIR", str(tmp_path / "data"))
    with serve(b"PK not really a zip") as (url, _):
        monkeypatch.setenv(gmd.URL_ENV, url)
        monkeypatch.setenv(gmd.SHA256_ENV, "ab" * 32)
        assert main(["data", "gmd", "--download", "--out", str(tmp_path / "g.npz")]) == 2
    err = capsys.readouterr().err
    assert "SHA-256" in err and "expected " + "ab" * 32 in err and err.count("\n") == 1
    assert not list((tmp_path / "data" / "datasets").iterdir()) and not (tmp_path / "g.npz").exists()


def test_mirror_needs_a_checksum(tmp_path, monkeypatch):
    monkeypatch.setenv(gmd.URL_ENV, "http://127.0.0.1:9/x.zip")
    monkeypatch.delenv(gmd.SHA256_ENV, raising=False)
    with pytest.raises(DrumfontError, match="SHA-256"):
        gmd.download(tmp_path)


def test_genre_table_is_complete():
    # every kept genre is a known one, the study's five come first and in its order
    assert set(v for v in gmd.STYLE_GENRES.values() if v) == set(gmd.GENRES)
    assert gmd.GENRES[:5] == grooves.RULE_GENRES
    with open(Path(__file__).parent.parent / "docs" / "models.md", encoding="utf-8") as fh:
        doc = fh.read()
    for style in gmd.STYLE_GENRES:  # the genre table in docs/models.md names every style
        assert style in doc, style


# --- a folder that is not to be trusted (issue 21.17) ------------------------------------------

@pytest.mark.parametrize("name, words", [
    ("../../etc/passwd", "is not a path inside the dataset folder"),
    ("../outside/a.mid", "is not a path inside the dataset folder"),
    ("/etc/passwd", "is not a path inside the dataset folder"),
    ("drummer9/out/link.mid", "is a link that leads out of the dataset folder"),
])
def test_midi_filename_stays_inside_the_folder(tmp_path, capsys, name, words):
    """`../../etc/passwd` was opened, `../good/a.mid` and absolute paths were imported (exit 0)."""
    make_gmd(tmp_path / "gmd")
    write_midi(tmp_path / "outside" / "a.mid", _played("rock", 2, 0))
    (tmp_path / "gmd" / "drummer9" / "out").mkdir(parents=True)
    (tmp_path / "gmd" / "drummer9" / "out" / "link.mid").symlink_to(tmp_path / "outside" / "a.mid")
    info = tmp_path / "gmd" / "info.csv"
    first = info.read_text().splitlines()[1]
    info.write_text(info.read_text() + first.replace(first.split(",")[7], name, 1) + "\n")
    assert main(["data", "gmd", str(tmp_path / "gmd"), "--out", str(tmp_path / "g.npz")]) == 2
    err = capsys.readouterr().err
    assert f"line {len(ROWS) + 2}: midi_filename" in err and words in err and err.count("\n") == 1, err
    assert not (tmp_path / "g.npz").exists()


def test_an_info_csv_that_is_a_fifo_is_refused_not_waited_on(tmp_path, capsys):
    import os
    import signal

    make_gmd(tmp_path / "gmd")
    (tmp_path / "gmd" / "info.csv").unlink()
    os.mkfifo(tmp_path / "gmd" / "info.csv")

    class Hung(BaseException):  # not an OSError: nothing on the way may turn it into a message
        pass

    def hung(*_):
        raise Hung("still reading after 20 s")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        rc = main(["data", "gmd", str(tmp_path / "gmd"), "--out", str(tmp_path / "g.npz")])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    err = capsys.readouterr().err
    assert rc == 2 and "FIFO" in err and err.count("\n") == 1, err


def test_a_field_past_the_csv_limit_is_one_line(tmp_path, capsys):
    make_gmd(tmp_path / "gmd")
    info = tmp_path / "gmd" / "info.csv"
    info.write_text(info.read_text().replace("jazz/swing", "jazz/" + "x" * 140_000, 1))
    assert main(["data", "gmd", str(tmp_path / "gmd"), "--out", str(tmp_path / "g.npz")]) == 2
    err = capsys.readouterr().err
    assert "line 9: a field longer than 131,072 characters" in err and err.count("\n") == 1, err


def test_a_download_that_unpacks_past_the_cap_is_refused(tmp_path, monkeypatch, capsys):
    """A 2 MB zip became 2.1 GB on disk (exit 0): the sizes the archive states are summed first."""
    make_gmd(tmp_path / "src")
    buf = io.BytesIO(_zip_of(tmp_path / "src"))
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("groove/zeros.bin", bytes(64 * 2**20))  # 64 MB of zeros: 64 KB packed
    payload = buf.getvalue()
    assert len(payload) < 2**20
    monkeypatch.setenv("DRUMFONT_DATA_DIR", str(tmp_path / "data"))
    with serve(payload) as (url, _):
        monkeypatch.setenv(gmd.URL_ENV, url)
        monkeypatch.setenv(gmd.SHA256_ENV, hashlib.sha256(payload).hexdigest())
        assert main(["data", "gmd", "--download", "--out", str(tmp_path / "g.npz")]) == 2
    err = capsys.readouterr().err
    assert "unpacks to 64 MB" in err and "at most 64 MB" in err and err.count("\n") == 1, err
    assert not list((tmp_path / "data" / "datasets").iterdir())  # nothing unpacked, the archive deleted
