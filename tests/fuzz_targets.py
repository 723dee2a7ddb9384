"""The doors under fuzzing: one target per door (a function of one generated input that must
return or raise a DrumfontError, never anything else) and the Hypothesis strategy that feeds it.

Shared by tests/test_fuzz.py (a short, derandomised run in CI) and benchmarks/fuzz_nightly.py
(a long random run that counts inputs and exceptions). The seed corpus in tests/fuzz_corpus/
holds the inputs that ever broke a door; every strategy draws from it as well.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "fuzz_corpus"


def corpus(kind: str) -> list[bytes]:
    """The bytes of every seed file of a kind (a folder of tests/fuzz_corpus)."""
    folder = CORPUS / kind
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()] if folder.is_dir() else []


# --- mutation of bytes -----------------------------------------------------------------------

@st.composite
def mutated(draw, seeds: list[bytes], max_ops: int = 8) -> bytes:
    """A seed with a few byte-level mutations: flips, inserts, deletes, splices, truncation and
    the interesting values (0x00, 0x7F, 0x80, 0xFF, system status bytes) that parsers mishandle."""
    data = bytearray(draw(st.sampled_from(seeds)))
    interesting = st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x8F, 0x90, 0x99, 0xF0, 0xF1, 0xF2, 0xF7, 0xF8,
                                   0xFE, 0xFF])
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "dup", "u32"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[i] = draw(st.one_of(interesting, st.integers(0, 255)))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[i:i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[i:]
        elif op == "dup" and data:
            j = draw(st.integers(i, len(data)))
            data[j:j] = data[i:j][:64]
        elif op == "u32" and len(data) >= 4:
            i = min(i, len(data) - 4)
            data[i:i + 4] = struct.pack(">I", draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF,
                                                                     draw(st.integers(0, 2**32 - 1))])))
    return bytes(data)


# --- MIDI ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def midi_seeds() -> list[bytes]:
    """Valid files drumfont writes (one bar, a swung chain, a custom note map) plus the corpus."""
    from drumfont.score.midifile import ExportOptions, to_midi_bytes
    from drumfont.score.pattern import from_text

    groove = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")
    fill = from_text("SN ....x...X.o.x.xx\nT1 ........x.x.x...\nCR x...............")
    return [to_midi_bytes([groove]), to_midi_bytes([groove, fill], ExportOptions(swing=66, bars_per_pattern=2)),
            to_midi_bytes([fill], ExportOptions(bpm=300, gate=1.0))] + corpus("midi")


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


@st.composite
def smf_structure(draw) -> bytes:
    """A file built from the SMF grammar with every field free: header values, chunk ids and
    lengths (true or lying), delta times, channel/system/meta/sysex events, running status."""
    fmt = draw(st.sampled_from([0, 1, 1, 2, 3, 0xFFFF]))
    division = draw(st.sampled_from([0, 1, 96, 480, 0x7FFF, 0x8000 | 0x1928, draw(st.integers(0, 0xFFFF))]))
    tracks = []
    for _ in range(draw(st.integers(0, 3))):
        events = bytearray()
        for _ in range(draw(st.integers(0, 24))):
            events += _vlq(draw(st.one_of(st.integers(0, 960), st.integers(0, 2**28 - 1))))
            kind = draw(st.sampled_from(["note", "note", "running", "channel", "meta", "sysex", "system", "raw"]))
            if kind == "note":
                events += bytes([0x90 | draw(st.sampled_from([9, 9, 0, 15])), draw(st.integers(0, 255)),
                                 draw(st.integers(0, 255))])
            elif kind == "running":
                events += bytes([draw(st.integers(0, 127)), draw(st.integers(0, 127))])
            elif kind == "channel":
                events += bytes([draw(st.integers(0x80, 0xEF))]) + draw(st.binary(min_size=0, max_size=2))
            elif kind == "meta":
                mtype = draw(st.sampled_from([0x2F, 0x51, 0x58, 0x03, draw(st.integers(0, 255))]))
                body = draw(st.binary(max_size=8))
                length = draw(st.sampled_from([len(body), draw(st.integers(0, 2**28 - 1))]))
                events += bytes([0xFF, mtype]) + _vlq(length) + body
            elif kind == "sysex":
                body = draw(st.binary(max_size=8))
                events += bytes([draw(st.sampled_from([0xF0, 0xF7]))]) + _vlq(len(body)) + body
            elif kind == "system":
                events += bytes([draw(st.integers(0xF1, 0xFE))]) + draw(st.binary(max_size=2))
            else:
                events += draw(st.binary(max_size=6))
        cid = draw(st.sampled_from([b"MTrk", b"MTrk", b"MTrk", b"XFIH", b"MThd"]))
        length = draw(st.sampled_from([len(events), len(events), draw(st.integers(0, 2**32 - 1))]))
        tracks.append(cid + struct.pack(">I", length) + bytes(events))
    ntracks = draw(st.sampled_from([len(tracks), draw(st.integers(0, 0xFFFF))]))
    hlen = draw(st.sampled_from([6, 6, 6, 0, 5, 100, 2**32 - 1]))
    return b"MThd" + struct.pack(">IHHH", hlen, fmt, ntracks, division) + b"".join(tracks)


def midi_bytes():
    """Mutations of valid files, structured random files, and raw bytes."""
    return st.one_of(mutated(midi_seeds()), smf_structure(), st.binary(max_size=64))


def midi_target(data: bytes) -> None:
    from drumfont.score.midifile import import_bytes

    for all_channels in (False, True):
        import_bytes(data, "fuzz.mid", all_channels=all_channels)


# --- pattern text ----------------------------------------------------------------------------

def pattern_text():
    """Text from the pattern grammar's alphabet (labels, step characters, ';' velocities) and
    from all of Unicode."""
    label = st.sampled_from(["KK", "SN", "CH", "OH", "T1", "T2", "CR", "RD", "CP", "kick", "kk", "XX", "", "#"])
    valid = st.text(alphabet="Xxo.", min_size=16, max_size=16)
    velocities = st.lists(st.integers(-5, 300).map(str), max_size=17).map(lambda v: " ; " + " ".join(v))
    steps = st.one_of(valid, st.builds(str.__add__, valid, velocities),
                      st.text(alphabet="Xxo.-| \t;0123456789٣", max_size=24))
    line = st.builds(lambda a, b: f"{a} {b}", label, steps)
    grammar = st.lists(line, max_size=12).map("\n".join)
    seeds = [b.decode("utf-8", "replace") for b in corpus("pattern")]
    return st.one_of(grammar, st.text(max_size=200), st.sampled_from(seeds) if seeds else st.just(""))


def pattern_target(text: str) -> None:
    from drumfont.score.pattern import from_text, to_text

    p = from_text(text)
    assert from_text(to_text(p)) == p  # what parses also round-trips


# --- JSON documents: sessions and note maps --------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                     st.text(max_size=20))
json_values = st.recursive(_scalars, lambda c: st.one_of(st.lists(c, max_size=5),
                                                        st.dictionaries(st.text(max_size=10), c, max_size=5)),
                           max_leaves=20)


@st.composite
def session_dict(draw) -> Any:
    """A saved session with fields replaced, removed or added; or any JSON value at all."""
    from drumfont.drums.engine import RulesEngine
    from drumfont.tui import session as studio

    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    s = studio.Studio()
    s.doc.bank[0] = RulesEngine().sample("rock", 1.0, 0)
    d = s.to_dict()
    for _ in range(draw(st.integers(1, 4))):
        nested = [d[k] for k in ("transport", "letters") if isinstance(d.get(k), dict)]
        where = d if draw(st.booleans()) or not nested else draw(st.sampled_from(nested))
        key = draw(st.sampled_from(sorted(where) + ["extra"]))
        op = draw(st.sampled_from(["set", "set", "delete"]))
        if op == "delete":
            where.pop(key, None)
        else:
            where[key] = draw(json_values)
    return d


def session_target(d: Any) -> None:
    from drumfont.tui import session as studio

    s = studio.Studio.from_dict(d, "fuzz-session.json")
    studio.Studio.from_dict(json.loads(json.dumps(s.to_dict())))  # what loads, saves and loads back


def session_file_target(data: bytes) -> None:
    """The bytes as session.json in a data folder: open_session never raises; a bad file is set
    aside, never deleted."""
    from drumfont.tui import session as studio

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / studio.SESSION_FILE
        path.write_bytes(data)
        s, note = studio.open_session(Path(d))
        if note:
            kept = [p for p in Path(d).iterdir() if p.name.startswith("session.damaged")]
            assert len(kept) == 1 and kept[0].read_bytes() == data


def session_bytes():
    seeds = [json.dumps(studio_default()).encode()] + corpus("session")
    return st.one_of(mutated(seeds), session_dict().map(lambda d: json.dumps(d).encode()))


def studio_default() -> dict:
    from drumfont.tui import session as studio

    return studio.Studio().to_dict()


@st.composite
def notemap_doc(draw) -> Any:
    from drumfont.score.pattern import VOICES

    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    note = st.one_of(st.integers(0, 127), st.integers(0, 127), st.integers(0, 127), json_values)
    notes = {v: draw(note) for v in VOICES if draw(st.integers(0, 29))}
    if draw(st.booleans()):
        notes[draw(st.text(max_size=8))] = draw(json_values)
    doc = {"notes": notes}
    for key in ("name", "description"):
        if draw(st.booleans()):
            doc[key] = draw(json_values)
    return doc


def notemap_target(doc: Any) -> None:
    from drumfont.score.notemap import parse_notemap

    m = parse_notemap(doc, "fuzz")
    assert len(m.notes) == 9 and all(0 <= n <= 127 for n in m.notes)


def notemap_file_target(data: bytes) -> None:
    from drumfont.score.notemap import load_notemap

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "map.json"
        path.write_bytes(data)
        load_notemap(str(path))


def notemap_bytes():
    seeds = [json.dumps({"notes": {"kick": 36, "snare": 38}}).encode()] + corpus("notemap")
    return st.one_of(mutated(seeds), notemap_doc().map(lambda d: json.dumps(d).encode()), st.binary(max_size=40))


# --- checkpoints -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def tiny_vae_blob() -> dict:
    """A complete VAE checkpoint dict of a tiny model (a few kB: mutations stay fast)."""
    import torch

    from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig

    cfg = HVAEConfig(z_low=3, z_high=2, channels=4, hidden=4, n_genres=2)
    model = HierarchicalVAE(cfg)
    return {"format": 1, "kind": "vae", "config": {"model": cfg.to_dict()}, "state_dict": model.state_dict(),
            "extras": {"complete": True, "genres": ["rock", "jazz"], "genres_present": [0, 1],
                       "genre_mean": torch.zeros(2, 2), "genre_cov": torch.eye(2).repeat(2, 1, 1)},
            "metrics": {}}


def _saved(blob: dict) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(blob, buf)
    return buf.getvalue()


@lru_cache(maxsize=1)
def checkpoint_seeds() -> list[bytes]:
    """The tiny VAE checkpoint and the corpus."""
    return [_saved(tiny_vae_blob())] + corpus("checkpoint")


@st.composite
def checkpoint_blob(draw) -> bytes:
    """torch.save of a checkpoint-shaped dict whose fields are replaced by random values."""
    import torch

    base = tiny_vae_blob()
    blob = {**base, "extras": dict(base["extras"]), "config": {"model": dict(base["config"]["model"])}}
    tensors = st.one_of(st.builds(torch.zeros, st.integers(0, 4), st.integers(0, 4)),
                        st.just(torch.tensor(float("nan"))), st.builds(lambda n: -torch.eye(n), st.integers(1, 4)))
    value = st.one_of(json_values, tensors)
    for _ in range(draw(st.integers(1, 3))):
        places = [blob] + [d for d in (blob.get("extras"), (blob.get("config") or {}).get("model")
                                       if isinstance(blob.get("config"), dict) else None) if isinstance(d, dict)]
        where = draw(st.sampled_from(places))
        key = draw(st.sampled_from(sorted(where) + ["extra"]))
        where[key] = draw(value)
    return _saved(blob)


def checkpoint_bytes():
    return st.one_of(mutated(checkpoint_seeds(), max_ops=4), checkpoint_blob(), st.binary(max_size=64))


def checkpoint_target(data: bytes) -> None:
    from drumfont import drums

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzz.pt"
        path.write_bytes(data)
        model = drums.load(path)
        model.sample(model.genres[0] if model.genres else None, 2, seed=0)


# --- CLI values ------------------------------------------------------------------------------

def value_text():
    """What a user might type for a number: numbers of every size, NaN/inf, words, empties."""
    return st.one_of(st.integers(-2**80, 2**80).map(str), st.floats(allow_nan=True).map(repr),
                     st.sampled_from(["nan", "-inf", "inf", "1e309", "", " ", "0x10", "1_000", "٣", "2**70",
                                      "-0", "0.0", "1e-320"]),
                     st.text(max_size=8))


def typed_options() -> list[tuple[list[str], str]]:
    """(subcommand path, option) for every option of the drumfont parser that has a type."""
    import argparse

    from drumfont.cli import build_parser

    found = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + [name])
            elif action.type is not None and action.option_strings:
                found.append((path, action.option_strings[-1]))
    walk(build_parser(), [])
    return found


def cli_parse_target(argv: list[str]) -> None:
    """Parsing alone: a Namespace, or exit code 2 from argparse (checked by the caller)."""
    from drumfont.cli import build_parser

    build_parser().parse_args(argv)


def cli_run(argv: list[str]) -> tuple[int, str]:
    """main() in process with stderr captured: (exit code, stderr)."""
    import contextlib

    from drumfont.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, err.getvalue()


TARGETS: dict[str, tuple[Callable[[Any], None], Callable[[], Any]]] = {
    "midi": (midi_target, midi_bytes),
    "pattern": (pattern_target, pattern_text),
    "session": (session_target, session_dict),
    "session_file": (session_file_target, session_bytes),
    "notemap": (notemap_target, notemap_doc),
    "notemap_file": (notemap_file_target, notemap_bytes),
    "checkpoint": (checkpoint_target, checkpoint_bytes),
}

