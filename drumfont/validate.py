"""Every value and file a user hands drumfont is checked here, once, against a range
written down in `RANGES` (the table in docs/limits.md is this table), before any work starts.

The CLI uses these as argparse `type=` callables, the studio's session loader and the loaders of
our own formats call the same checks, and a failure is a DrumfontError naming the file and the
field. Input files are read through `read_capped`: regular files only (a FIFO would block
forever, /dev/zero never ends), read with a byte cap rather than trusting `st_size`, which is 0
for devices. Output paths go through `check_output`: name length, dangling links, writability.
"""

from __future__ import annotations

import argparse
import csv
import errno
import io
import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from drumfont.errors import DrumfontError, FileExistsNoForce

# --- documented ranges -----------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """An inclusive numeric range; `open_low` excludes the lower end (gate > 0)."""

    lo: float
    hi: float
    what: str
    integer: bool = False
    open_low: bool = False

    def text(self) -> str:
        lo = f"{self.lo:g}" if not self.integer else f"{int(self.lo):,}"
        hi = f"{self.hi:g}" if not self.integer else f"{int(self.hi):,}"
        return f"({lo}, {hi}]" if self.open_low else f"{lo}..{hi}"

    def check(self, value: Any, name: str, where: str = "") -> Any:
        """`value` as an int or finite float inside the range, or a DrumfontError saying so."""
        prefix = f"{where}: " if where else ""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DrumfontError(f"{prefix}{name} must be a number ({self.what}), got {short(value)}")
        if self.integer:
            if isinstance(value, float):
                if not value.is_integer():
                    raise DrumfontError(f"{prefix}{name} must be a whole number, got {short(value)}")
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise DrumfontError(f"{prefix}{name} must be a finite number in {self.text()}, got {value}")
        low_ok = value > self.lo if self.open_low else value >= self.lo
        if not (low_ok and value <= self.hi):
            shown = f"{value:,}" if self.integer else f"{value:g}"
            bound = (f"more than {self.lo:g}" if self.open_low else f"at least {self._num(self.lo)}") \
                if not low_ok else f"at most {self._num(self.hi)}"
            raise DrumfontError(f"{prefix}{name} {shown} is outside {self.text()}: it must be {bound} ({self.what})")
        return value

    def _num(self, x: float) -> str:
        return f"{int(x):,}" if self.integer else f"{x:g}"


def short(value: Any, width: int = 40) -> str:
    """A value's repr on one line, cut to `width` characters, for an error message."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


# A seed fits every generator drumfont seeds (torch.Generator, numpy, numpy's legacy global).
SEED_MAX = 2**32 - 1
# The most bars one command writes or reads: what the MIDI reader accepts back (midifile.MAX_BARS).
MAX_TOTAL_BARS = 100_000

RANGES: dict[str, Range] = {
    "bpm": Range(20, 300, "tempo in BPM"),
    "swing": Range(50, 75, "MPC swing %, 50 = straight"),
    "gate": Range(0, 1, "note length as a share of a sixteenth", open_low=True),
    # one meaning wherever a model draws: the spread of its latent draw (z ~ N(0, T^2 I)), for the
    # VAE (export, sample, play, the studio) and the groove models (humanize, drumify) alike
    "temperature": Range(0, 5, "sampling temperature, 0 = the model's typical output, 1 = its full spread"),
    "seed": Range(0, SEED_MAX, "seed", integer=True),
    "n": Range(1, 10_000, "bars to sample", integer=True),
    "bars": Range(1, 1024, "bars each pattern repeats", integer=True),
    "play_bars": Range(1, 1_000_000, "bars to play before stopping", integer=True),
    "count": Range(1, 10_000, "bars to sample", integer=True),
    "steps": Range(2, 1000, "bars in a morph, endpoints included", integer=True),
    "samples": Range(1, 1_000_000, "generated samples to measure", integer=True),
    "scale": Range(1, 64, "upscale factor", integer=True),
    "text_size": Range(4, 1024, "font size in pixels per em", integer=True),
    "per_genre": Range(1, 100_000, "patterns per genre", integer=True),
    "per_letter": Range(1, 10_000, "images per letter", integer=True),
    "val_share": Range(0, 0.99, "validation share"),
    "amount": Range(0, 1, "share of the humanised change, 0 = unchanged"),
    "workers": Range(1, 256, "processes", integer=True),
    "phrase": Range(1, 8, "bars in a phrase: 1, 2, 4 or 8", integer=True),
    "phrase_slot": Range(1, 8, "bars in a studio slot's phrase", integer=True),
    "continue_bars": Range(1, 32, "bars to continue", integer=True),
    "section_bars": Range(1, 64, "bars in a song section", integer=True),
    "song_bars": Range(1, 512, "bars in a song", integer=True),
    "song_sections": Range(1, 64, "sections in the studio's song", integer=True),
    "section_repeats": Range(1, 8, "times a studio song section plays its slot's phrase", integer=True),
    "quantum": Range(1, 64, "Link quantum in beats, 4 = one 4/4 bar", integer=True),
}
# The phrase lengths the phrase model is trained on (its windows): `--phrase` takes these.
PHRASE_LENGTHS = (1, 2, 4, 8)


def arg(key: str) -> Callable[[str], Any]:
    """An argparse `type=` callable for the range `RANGES[key]` (argparse prints the message and
    exits 2, as for any malformed flag)."""
    rng = RANGES[key]

    def parse(text: str) -> Any:
        try:
            value: Any = int(text) if rng.integer else float(text)
        except ValueError:
            kind = "a whole number" if rng.integer else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind} ({rng.what}, {rng.text()})") from None
        try:
            return rng.check(value, "value")
        except DrumfontError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = key  # argparse names the type in "invalid <name> value"
    return parse


def phrase_length(text: str) -> int:
    """argparse type of `--phrase`: a whole number in RANGES["phrase"] that is one of PHRASE_LENGTHS."""
    value = arg("phrase")(text)
    if value not in PHRASE_LENGTHS:
        raise argparse.ArgumentTypeError(f"{value} is not a phrase length: use {', '.join(map(str, PHRASE_LENGTHS))}")
    return value


phrase_length.__name__ = "phrase"


def parse_form(form: str) -> list[tuple[str, int]]:
    """A song's form, "intro:4,verse:8,chorus:8,outro:4" -> [("intro", 4), ...]: names are free
    text (no ':' or ','; spaces around them dropped), each section RANGES["section_bars"] bars, the
    song at most RANGES["song_bars"] in all. A malformed form is one DrumfontError naming the item."""
    song = RANGES["song_bars"]
    if not isinstance(form, str) or not form.strip():
        raise DrumfontError('the form is empty; give sections as NAME:BARS, e.g. "intro:4,verse:8"')
    if len(form) > 10_000:
        raise DrumfontError(f"the form is {len(form):,} characters long; a song has at most {int(song.hi)} bars")
    out: list[tuple[str, int]] = []
    for raw in form.split(","):
        item = raw.strip()
        name, colon, count = item.partition(":")
        name, count = name.strip(), count.strip()
        shown = short(item, 30)
        if not item:
            raise DrumfontError("the form has an empty item (two commas together, or one at an end)")
        if not colon or ":" in count:
            raise DrumfontError(f"form item {shown} is not NAME:BARS (e.g. verse:8)")
        if not name:
            raise DrumfontError(f"form item {shown} has no section name (e.g. verse:8)")
        if not count.isascii() or not count.isdigit():
            raise DrumfontError(f"form item {shown}: the bar count {short(count, 20)} is not a whole number")
        out.append((name, int(count)))
    return check_form(out)


def check_form(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """(name, bars) sections as a song takes them (from a form's text, or from the studio, whose
    names may hold any character): a name, RANGES["section_bars"] bars each, RANGES["song_bars"]
    in all, at least one section."""
    sec, song = RANGES["section_bars"], RANGES["song_bars"]
    if not items:
        raise DrumfontError("the song has no section")
    for name, bars in items:
        if not str(name).strip():
            raise DrumfontError("a section needs a name")
        if isinstance(bars, bool) or not isinstance(bars, int) or not sec.lo <= bars <= sec.hi:
            raise DrumfontError(f"form item {short(f'{name}:{bars}', 30)}: a section has "
                                f"{int(sec.lo)}-{int(sec.hi)} bars, got {short(bars)}")
    total = sum(b for _, b in items)
    if total > song.hi:
        raise DrumfontError(f"the form has {total:,} bars; a song has at most {int(song.hi)}")
    return list(items)


def form_arg(text: str) -> list[tuple[str, int]]:
    """argparse type of `--form`."""
    try:
        return parse_form(text)
    except DrumfontError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


form_arg.__name__ = "form"


def total_bars(patterns: int, repeats: int, what: str = "") -> int:
    """patterns × repeats, refused above MAX_TOTAL_BARS before any work."""
    total = patterns * repeats
    if total > MAX_TOTAL_BARS:
        raise DrumfontError(f"{what or 'that'} would write {total:,} bars; the most one file or run "
                            f"holds is {MAX_TOTAL_BARS:,} bars")
    return total


# --- input files -----------------------------------------------------------------------------

MiB = 2**20
GiB = 2**30
# Caps by kind of file: larger than any real file of the kind, small enough to read into memory.
# FILE_LIMITS below says which command reads what (docs/limits.md prints that table).
MAX_MIDI_BYTES = 64 * MiB
MAX_MIDI_BARS = MAX_TOTAL_BARS    # what any command writes, read back
MAX_MIDI_NOTES = 4_000_000        # a 64 MB file of nothing but note-ons
# The models (transfer, humanize, drumify) hold every bar of a file at once (measured: 22-27 KB a
# bar, 10,000 bars 470-530 MB at peak, torch included), and humanize hands the whole file to mido
# to rewrite it (0.75 KB an event): 100,000 bars grew past 4 GB. 10,000 bars at 120 BPM is 5.5 hours.
MAX_MODEL_BARS = 10_000
MAX_RETIME_EVENTS = 500_000
MAX_TEXT_BYTES = 1 * MiB          # a pattern text file, a note map, a session
MAX_HISTORY_BYTES = 1 * GiB       # a training history (one JSON line an epoch or step)
MAX_CHECKPOINT_BYTES = 2 * GiB
MAX_DATASET_BYTES = 4 * GiB       # a dataset's arrays as its .npz declares them (1,000,000 bars: 0.6 GB)
MAX_SOUNDFONT_BYTES = 2 * GiB     # FluidSynth loads the samples into memory; GM SoundFonts are 6-150 MB
MAX_IMAGE_BYTES = 64 * MiB        # an image whose glyphs give a style (--style-from)
# 40 megapixels: a line of 200 glyphs at 200 px each fits; the decoded image and its float copy
# (5 bytes a pixel) stay under 200 MB. Pillow's own bomb limit (179 megapixels) would take 900 MB.
MAX_IMAGE_PIXELS = 40_000_000
MAX_CSV_BYTES = 16 * MiB          # a dataset's info.csv or an import manifest (GMD's: 0.2 MB)
MAX_CSV_FIELD = 131_072           # characters in one field: the csv module's own limit
# A downloaded dataset archive, unpacked: the Groove MIDI Dataset's (3.3 MB) unpacks to about
# 6 MB in about 1,200 files; ten times that and more is not a dataset of MIDI files.
MAX_UNPACKED_BYTES = 64 * MiB
MAX_UNPACKED_FILES = 20_000


@dataclass(frozen=True)
class FileLimit:
    """One door: a kind of file, the commands that read it, and the most it may hold."""

    what: str
    read_by: str
    max_bytes: int
    holds: str = ""  # the limits beyond bytes, written from the constants above

    def row(self) -> str:
        size = f"{self.max_bytes / GiB:g} GB" if self.max_bytes >= GiB else f"{self.max_bytes / MiB:g} MB"
        return f"| {self.what} | {self.read_by} | {size} | {self.holds or '-'} |"


FILE_LIMITS: tuple[FileLimit, ...] = (
    FileLimit("MIDI file", "`render FILE`, `play --file`, `interpolate --from/--to FILE`, `data import`, "
              "`data gmd` (each file)", MAX_MIDI_BYTES, f"{MAX_MIDI_BARS:,} bars, {MAX_MIDI_NOTES:,} drum notes"),
    FileLimit("MIDI file a model reads", "`transfer`, `humanize`, `drumify`", MAX_MIDI_BYTES,
              f"{MAX_MODEL_BARS:,} bars (4/4 bars with drums; for `drumify`, bars from the first tap to the "
              f"last), {MAX_MIDI_NOTES:,} notes"),
    FileLimit("MIDI file humanize rewrites", "`humanize`", MAX_MIDI_BYTES,
              f"{MAX_RETIME_EVENTS:,} events in all tracks (every event is rewritten)"),
    FileLimit("checkpoint (`--preset`, `--classifier`, `--resume`)", "every model command", MAX_CHECKPOINT_BYTES,
              "loaded with `weights_only=True`; layer sizes within the trainer ranges"),
    FileLimit("dataset (.npz)", "`train`, `report --data`", MAX_DATASET_BYTES,
              "counted as the arrays the file declares (a compressed file cannot unpack past it)"),
    FileLimit("note map, pattern text, studio session", "`--notemap`, `--pattern`, the studio", MAX_TEXT_BYTES,
              "UTF-8"),
    FileLimit("training history (.jsonl)", "`train --resume`, `report gan --run`", MAX_HISTORY_BYTES, "UTF-8"),
    FileLimit("info.csv, import manifest", "`data gmd`, `data import --manifest`", MAX_CSV_BYTES,
              f"fields of at most {MAX_CSV_FIELD:,} characters; `data gmd`'s files inside its folder"),
    FileLimit("dataset archive (--download)", "`data gmd --download`", MAX_UNPACKED_BYTES,
              f"unpacked, in at most {MAX_UNPACKED_FILES:,} files"),
    FileLimit("image (`--style-from`)", "`letters`, `font`", MAX_IMAGE_BYTES,
              f"{MAX_IMAGE_PIXELS / 1e6:g} megapixels, checked from the header before decoding"),
    FileLimit("SoundFont (.sf2)", "`render`, `export --audio`, `play --audio`, the studio", MAX_SOUNDFONT_BYTES,
              "RIFF sfbk header"),
)


def limits_table() -> str:
    """FILE_LIMITS as the markdown table in docs/limits.md (a test holds the page to it)."""
    return "\n".join(["| file | read by | bytes | also |", "|---|---|---|---|"] + [f.row() for f in FILE_LIMITS])


def check_count(count: int, limit: int, unit: str, source: str | os.PathLike, rule: str) -> int:
    """`count` of `unit` in `source`, or a DrumfontError stating the rule ("a model reads at most
    {limit} from one file"; {limit} is filled in)."""
    if count > limit:
        raise DrumfontError(f"{source}: {count:,} {unit}; {rule.format(limit=f'{limit:,}')}")
    return count


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike, what: str = "file") -> int:
    """An open read-only descriptor of a regular file, or a DrumfontError naming the path.
    Opened non-blocking so that a FIFO cannot hang the open itself; the caller closes it."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        dangling = os.path.islink(path)
        raise DrumfontError(f"{path}: cannot read (no such {what}" + ("; a link to a missing file)" if dangling else ")")) from None
    except IsADirectoryError:
        raise DrumfontError(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise DrumfontError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DrumfontError(f"{path}: is {_kind(mode)}, not a {what}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def is_file(path: str | os.PathLike) -> bool:
    """Path.is_file that answers False, not OSError, for a name the system cannot look up
    (longer than 255 bytes: ENAMETOOLONG, which pathlib raises on Python 3.11)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def is_dir(path: str | os.PathLike) -> bool:
    """Path.is_dir that answers False, not OSError, for a name the system cannot look up."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def check_input(path: str | os.PathLike, what: str = "file") -> Path:
    """Refuse a missing path, a folder, FIFO or device before anything opens it for real."""
    os.close(open_regular(path, what))
    return Path(path)


READ_CHUNK = 16 * MiB  # what read_capped asks for at a time beyond the size the file states


def read_capped(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `max_bytes`; larger is refused having read no more
    than max_bytes + 1. st_size is only a hint: the first read asks for the size the file
    states (one allocation of the file's own size, never of the cap: `read(cap)` reserved 2 GB
    for a 1 MB preset), and whatever is still there after it is read in bounded chunks."""
    fd = open_regular(path, what)
    chunks: list[bytes] = []
    got = 0
    try:
        with os.fdopen(fd, "rb", buffering=0, closefd=True) as fh:
            want = min(os.fstat(fh.fileno()).st_size, max_bytes) + 1
            while got <= max_bytes:
                chunk = fh.read(want)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
                want = min(READ_CHUNK, max_bytes + 1 - got)
    except OSError as exc:
        raise DrumfontError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if got > max_bytes:
        raise DrumfontError(f"{path}: larger than {max_bytes / MiB:g} MB, too large for a {what}")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path: str | os.PathLike, max_bytes: int = MAX_TEXT_BYTES, what: str = "text file") -> str:
    """A capped regular file decoded as UTF-8; binary content is a DrumfontError, not a traceback."""
    data = read_capped(path, max_bytes, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DrumfontError(f"{path}: not a UTF-8 {what} (byte {exc.start}: {data[exc.start]:#04x})") from None


def open_image(path: str | os.PathLike, what: str = "image"):
    """A decoded Pillow image from a regular file of at most MAX_IMAGE_BYTES and MAX_IMAGE_PIXELS;
    the size is checked from the header, before a pixel is decoded (a 2 MB PNG can hold 20000 ×
    20000 pixels). Anything Pillow cannot read is a DrumfontError naming the file."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 (Pillow: 50 ms to import, paid only by a door that reads an image)

    data = read_capped(path, MAX_IMAGE_BYTES, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # our limit is lower anyway
            im = Image.open(io.BytesIO(data))
            pixels = im.width * im.height
            if pixels > MAX_IMAGE_PIXELS:
                raise DrumfontError(f"{path}: {im.width:,} × {im.height:,} pixels; the most an {what} may "
                                    f"have is {MAX_IMAGE_PIXELS / 1e6:g} megapixels")
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DrumfontError(f"{path}: larger than {MAX_IMAGE_PIXELS / 1e6:g} megapixels, too large for an {what}") from None
    except UnidentifiedImageError:
        raise DrumfontError(f"{path}: cannot read the image (not a format Pillow knows: PNG, JPEG, GIF, BMP, "
                            "TIFF, WebP)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DrumfontError(f"{path}: cannot read the {what} ({' '.join(str(exc).split())[:100]})") from None
    return im


def read_csv(path: str | os.PathLike, what: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(column names, [(line, row)]) of a capped regular CSV file (UTF-8, a BOM allowed); a field
    past MAX_CSV_FIELD characters or a malformed quote is a DrumfontError naming its line."""
    text = read_text(path, MAX_CSV_BYTES, what).removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    try:
        names = list(reader.fieldnames or [])
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        why = (f"a field longer than {MAX_CSV_FIELD:,} characters" if "field limit" in str(exc)
               else " ".join(str(exc).split()))
        # DictReader's own line_num is updated after a row succeeds; its reader's counts the failing line
        raise DrumfontError(f"{path} line {reader.reader.line_num}: {why}") from None
    return names, rows


def inside(root: str | os.PathLike, name: str, where: str) -> Path:
    """root/name for a relative `name` that stays inside `root` (no absolute path, no `..`, no link
    leading out), or a DrumfontError: a list of files cannot send a reader elsewhere."""
    rel = Path(name)
    if rel.is_absolute() or rel.drive or ".." in rel.parts:
        raise DrumfontError(f"{where}: {short(name, 80)} is not a path inside the dataset folder")
    path = Path(root) / rel
    try:
        real, top = path.resolve(), Path(root).resolve()
    except (OSError, RuntimeError):  # a link loop, a name too long
        raise DrumfontError(f"{where}: {short(name, 80)} cannot be looked up") from None
    if not real.is_relative_to(top):
        raise DrumfontError(f"{where}: {short(name, 80)} is a link that leads out of the dataset folder")
    return path


# --- output paths ----------------------------------------------------------------------------

NAME_MAX = 255       # bytes in one file name on Linux and macOS file systems (and NTFS characters)
PATH_MAX = 4096


def check_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Fail early, before any work, if `path` cannot be written: a name too long, an existing
    file or link (dangling ones too) without force, a folder, or a folder we cannot write in."""
    path = Path(path)
    raw = os.fsencode(path)
    name = os.fsencode(path.name)
    if not name:
        raise DrumfontError(f"{path}: give a file name, not a folder")
    for part in path.parts:  # the folders on the way are names too
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise DrumfontError(f"{part[:40]}...: the name is {size} bytes; "
                                f"the most a file system takes is {NAME_MAX}")
    if len(raw) > PATH_MAX:
        raise DrumfontError(f"{str(path)[:40]}...: the path is {len(raw)} bytes; the most is {PATH_MAX}")
    if b"\0" in raw:
        raise DrumfontError(f"{path!r}: a file name cannot hold a NUL byte")
    if os.path.isdir(path):
        raise DrumfontError(f"{path} is a folder, not a file")
    if os.path.lexists(path) and not force:
        link = " (a link)" if os.path.islink(path) else ""
        raise FileExistsNoForce(f"{path}{link} exists; pass --force to overwrite it")
    # The nearest folder that exists must be a folder we may write in (the rest gets made).
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        if os.path.lexists(parent):  # a dangling link where a folder should be
            raise DrumfontError(f"{parent}: a link to a missing folder")
        parent = parent.parent
    if not parent.is_dir():
        raise DrumfontError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DrumfontError(f"cannot write in {parent} (permission denied)")
    return path


def output_format(path: str | os.PathLike, formats: dict[str, str], what: str) -> str:
    """The format an output path's suffix names (`formats`: suffix -> format, lower case), or a
    DrumfontError listing the suffixes `what` writes: a file holds what its name says."""
    suffix = Path(path).suffix.lower()
    if suffix in formats:
        return formats[suffix]
    listed = ", ".join(formats)
    said = f"its suffix {Path(path).suffix!r}" if suffix else "no suffix"
    raise DrumfontError(f"{path}: {what} writes {listed} files, and the name has {said}; "
                        "name the output with one of those")


# What each kind of output file may be called (issue 21.14: `humanize -o x.wav` wrote MIDI bytes
# into a .wav). Audio, images and fonts have theirs beside their writers.
MIDI_OUT = {".mid": "MIDI", ".midi": "MIDI"}
DATASET_OUT = {".npz": "dataset"}
# A trainer's --out: its torch checkpoint, or its preset (.safetensors), the other written beside it.
CHECKPOINT_OUT = {".pt": "checkpoint", ".pth": "checkpoint", ".safetensors": "preset"}
LOG_OUT = {".tsv": "text", ".txt": "text", ".log": "text"}


def explain_os_error(path: str | os.PathLike, exc: OSError) -> DrumfontError:
    """One line for an OSError met while writing (disk full, read-only file system, ...)."""
    if exc.errno == errno.ENAMETOOLONG:
        return DrumfontError(f"{path}: the name is too long for this file system")
    return DrumfontError(f"cannot write {path}: {exc.strerror or exc}")


# --- the trainers' flags ---------------------------------------------------------------------
# One row per config field name (the trainers' dataclasses share their names); a field not
# listed gets the default range of its type. Sizes are capped where a larger value would only
# exhaust memory.
_SIZE = Range(1, 4096, "layer size", integer=True)
_WEIGHT = Range(0, 1e6, "loss weight, 0 = off")
TRAINER_RANGES: dict[str, Range] = {
    "epochs": Range(1, 100_000, "epochs", integer=True),
    "batch_size": Range(1, 65_536, "batch size", integer=True),
    "lr": Range(0, 10, "learning rate", open_low=True),
    "seed": RANGES["seed"], "data_seed": RANGES["seed"],
    "threads": Range(1, 256, "CPU threads", integer=True),
    "kl_cycles": Range(1, 10_000, "KL cycles", integer=True),
    "kl_ratio": Range(0, 1, "share of a cycle spent ramping", open_low=True),
    "beta_max": Range(0, 1e3, "largest KL weight"),
    "free_bits": Range(0, 100, "nats per dimension"),
    "temp_start": Range(0, 100, "output temperature", open_low=True),
    "temp_end": Range(0, 100, "output temperature", open_low=True),
    "genre_weight": _WEIGHT, "vel_weight": _WEIGHT, "offset_weight": _WEIGHT, "weight_decay": _WEIGHT,
    "feature_matching": _WEIGHT, "r1": _WEIGHT, "info_weight": _WEIGHT,
    "val_every": Range(1, 100_000, "epochs between validations", integer=True),
    "eval_every": Range(1, 100_000, "epochs between evaluations", integer=True),
    "stop_after": Range(1, 100_000, "epoch to stop after", integer=True),
    "eval_samples": Range(26, 1_000_000, "samples per evaluation", integer=True),
    "beta1": Range(0, 0.9999, "Adam beta1"), "beta2": Range(0, 0.99999, "Adam beta2"),
    "ema": Range(0, 0.99999, "EMA decay, 0 = off"),
    "dropout": Range(0, 0.95, "dropout"),
    "unrolled": Range(0, 50, "unrolled D steps", integer=True),
    "unrolled_lr": Range(0, 10, "unrolled learning rate", open_low=True),
    "mbd_b": Range(1, 1024, "minibatch-discrimination kernels", integer=True),
    "mbd_c": Range(1, 1024, "minibatch-discrimination kernel size", integer=True),
    "info_codes": Range(0, 1024, "InfoGAN categories, 0 = off", integer=True),
    "shift": Range(0, 14, "pixels of random shift", integer=True),
    "z_dim": _SIZE, "z_low": _SIZE, "z_high": _SIZE, "g_width": _SIZE, "d_width": _SIZE,
    "channels": _SIZE, "hidden": _SIZE, "width": _SIZE, "features": _SIZE,
    "z_bar": _SIZE, "z_phrase": _SIZE, "genre_dim": _SIZE, "context": _SIZE,
    "max_bars": Range(1, 64, "bars of the longest phrase", integer=True),
    "mixture": Range(1, 64, "Gaussians in a mixture prior", integer=True),
    "n_genres": Range(1, 1024, "genres", integer=True), "n_classes": Range(1, 1024, "classes", integer=True),
    "classes": Range(1, 1024, "glyph classes", integer=True),
    "steps": Range(16, 16, "steps per bar", integer=True), "voices": Range(9, 9, "voices", integer=True),
}
_DEFAULT_INT = Range(0, 1_000_000, "count", integer=True)
_DEFAULT_FLOAT = Range(-1e6, 1e6, "value")


def trainer_arg(field_name: str, kind: type) -> Callable[[str], Any]:
    """argparse type for a trainer config field: its TRAINER_RANGES row, else its type's default."""
    rng = TRAINER_RANGES.get(field_name) or (_DEFAULT_INT if kind is int else _DEFAULT_FLOAT)
    key = f"trainer:{field_name}"
    RANGES.setdefault(key, rng)
    return arg(key)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr and exit code 2, like DrumfontError."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
