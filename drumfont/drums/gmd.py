"""`drumfont data gmd`: a Groove-MIDI-style folder, read through its info.csv, -> a drums dataset.

The Groove MIDI Dataset (Gillick et al. 2019, CC BY 4.0): 10 drummers on a Roland TD-11, one
row per file in info.csv (style `primary/secondary`, beat or fill, time signature, split).
Bars are read by library.py's pool, so they get the same quantisation, offsets and skip rules
as any import. The dataset's own split is kept (train, validation, test); it is by file, and
a row with an empty split is assigned one by file too. Each bar's source is the file's path
relative to the folder, so its drummer is the first folder of that path.

Genres: the primary style (before '/') through STYLE_GENRES. Counted on the dataset's training
split (4/4 bars, beats + fills) before choosing, each kept genre has at least 300 training bars:
rock        rock 5661, punk 144, pop 139, country 145   (backbeat styles; pop, punk and country
            alone have under 300 bars each)
jazz        jazz 2163
hiphop      hiphop 837
electronic  dance 554                                   (breakbeat, disco; no validation file)
latin       latin 2850, afrocuban 830                   (Cuban bembe and rumba, calypso: the
            Afro-Caribbean roots of the latin set, which already holds songo, merengue, samba)
funk        funk 1729, neworleans 782, soul 334, gospel 13   (neworleans is nearly all
            neworleans/funk; soul/motown and gospel share funk's ghost-note backbeat)
afrobeat    afrobeat 792, highlife 49                   (highlife is afrobeat's parent)
dropped     reggae 179, middleeastern 119, blues 93     (under 300 bars, and no neighbour whose
            feel they share: reggae's one-drop, a 10/8-like middle-eastern groove, 12/8 shuffles)
A style not in the table is dropped and counted, like the ones above.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from drumfont.atomic import check_writable
from drumfont.drums import library
from drumfont.drums.download import fetch
from drumfont.drums.rules import with_rule_claps
from drumfont.errors import DrumfontError
from drumfont.npzfile import SPLITS
from drumfont.paths import data_dir
from drumfont.score.genres import GENRES
from drumfont.validate import DATASET_OUT, MAX_UNPACKED_BYTES, MAX_UNPACKED_FILES, MiB, inside, read_csv

STYLE_GENRES: dict[str, str | None] = {
    "rock": "rock", "punk": "rock", "pop": "rock", "country": "rock",
    "jazz": "jazz",
    "hiphop": "hiphop",
    "dance": "electronic",
    "latin": "latin", "afrocuban": "latin",
    "funk": "funk", "neworleans": "funk", "soul": "funk", "gospel": "funk",
    "afrobeat": "afrobeat", "highlife": "afrobeat",
    "reggae": None, "middleeastern": None, "blues": None,
}
# The study's five first, in the study's order, so their indices match the rule corpus's.
INFO_COLUMNS = ("style", "beat_type", "time_signature", "midi_filename", "split")
FOUR_FOUR = "4-4"

# The official archive: size from the dataset's README, SHA-256 from TensorFlow Datasets'
# checksum list (tensorflow_datasets/url_checksums/groove.txt), which records the same size.
URL = "https://storage.googleapis.com/magentadata/datasets/groove/groove-v1.0.0-midionly.zip"
SIZE = 3_260_318
SHA256 = "651cbc524ffb891be1a3e46d89dc82a1cecb09a57c748c7b45b844c4841dcc1e"
# A mirror (or a test's local server) replaces both; a checksum is always required.
URL_ENV, SHA256_ENV = "DRUMFONT_GMD_URL", "DRUMFONT_GMD_SHA256"


@dataclass
class InfoRow:
    """One file of info.csv."""

    line: int
    file: str            # midi_filename, relative to the folder
    style: str           # primary style
    fill: bool
    meter: str           # time_signature, e.g. "4-4"
    split: int | None    # TRAIN, VAL, TEST, or None to assign


def read_info(root: str | os.PathLike) -> list[InfoRow]:
    """The rows of ROOT/info.csv; a bad row is a one-line error naming its line."""
    path = Path(root) / "info.csv"
    if not os.path.lexists(path):
        raise DrumfontError(f"{path}: no info.csv; give the Groove MIDI folder (the one holding info.csv), "
                            f"or use --download")
    # a regular file of at most 16 MB (a FIFO would block forever), fields under csv's limit
    names, table = read_csv(path, "info.csv")
    missing = [c for c in INFO_COLUMNS if c not in names]
    if missing:
        raise DrumfontError(f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(INFO_COLUMNS)})")
    rows = []
    for line, row in table:
        where = f"{path} line {line}"
        file = (row["midi_filename"] or "").strip()
        style = (row["style"] or "").strip().lower().split("/")[0]
        beat = (row["beat_type"] or "").strip().lower()
        split = (row["split"] or "").strip().lower()
        if not file:
            raise DrumfontError(f"{where}: empty midi_filename")
        inside(root, file, f"{where}: midi_filename")  # never ../../etc/passwd, never /elsewhere
        if not style:
            raise DrumfontError(f"{where}: empty style")
        if beat not in ("beat", "fill"):
            raise DrumfontError(f"{where}: beat_type {row['beat_type']!r} is neither beat nor fill")
        if split and split not in SPLITS:
            raise DrumfontError(f"{where}: unknown split {row['split']!r} (train, validation, test or empty)")
        rows.append(InfoRow(line, file, style, beat == "fill",
                            (row["time_signature"] or "").strip(), SPLITS[split] if split else None))
    if not rows:
        raise DrumfontError(f"{path}: no rows")
    return rows


def import_gmd(root: str | os.PathLike, out: str | os.PathLike, force: bool = False, workers: int | None = None,
               progress: bool = False, val_share: float = 0.2, seed: int = 0,
               rule_claps: bool = False) -> library.ImportReport:
    """Import a Groove-MIDI-style folder into a dataset file at `out` (genres by STYLE_GENRES).
    `rule_claps` adds the rule corpus's clap bars to the training split (the dataset has no
    clap; see grooves.with_rule_claps)."""
    t0 = time.perf_counter()
    root, out = Path(root), Path(out)
    check_writable(out, force, DATASET_OUT, "data gmd")  # before the work, not after it
    if not 0 <= val_share < 1:
        raise DrumfontError(f"--val-share must be in [0, 1), got {val_share}")
    rows = read_info(root)
    meters = Counter(r.meter for r in rows if r.meter != FOUR_FOUR)
    rows = [r for r in rows if r.meter == FOUR_FOUR]  # other meters are not read at all
    report = library.ImportReport(out=out, files=len(rows))
    by_path = {str(root / r.file): r for r in rows}
    kept = library.read_files([root / r.file for r in rows], report, workers=workers, progress=progress)
    if not kept:
        raise library.no_bars_error(report, len(rows))

    dropped: Counter = Counter()
    dropped_files: Counter = Counter()
    use, info = [], []
    for f in kept:
        r = by_path[f.path]
        if STYLE_GENRES.get(r.style) is None:
            dropped[r.style] += len(f.velocities)
            dropped_files[r.style] += 1
            continue
        use.append(f)
        info.append(r)
    report.files_ok = len(use)  # files whose bars are in the dataset
    if not use:
        raise DrumfontError(f"{root}: no file has a style in the genre table ({', '.join(sorted(dropped))} "
                            f"are dropped); known styles: {', '.join(sorted(k for k, v in STYLE_GENRES.items() if v))}")
    data = library.assemble(use, [STYLE_GENRES[r.style] for r in info], [r.split for r in info], val_share, seed,
                            genres=[g for g in GENRES if any(STYLE_GENRES[r.style] == g for r in info)],
                            fills=[r.fill for r in info], names=[r.file for r in info])
    if rule_claps:
        before = len(data)
        data = with_rule_claps(data, seed=seed)
        report.notes.append(f"added {len(data) - before} rule-corpus bars with a hand clap to the training "
                            "split (the recordings have no clap)")
    data.save(out, force=force)
    library.tally(report, data)
    if meters:
        report.notes.append(f"skipped {sum(meters.values())} files not in 4/4 by info.csv: "
                            + ", ".join(f"{m} {n}" for m, n in sorted(meters.items())))
    if dropped:
        report.notes.append("dropped styles (not in the genre table): " + ", ".join(
            f"{s} {dropped[s]} bars ({dropped_files[s]} files)" for s in sorted(dropped)))
    report.seconds = time.perf_counter() - t0
    return report


def cache_dir() -> Path:
    """Where downloaded datasets are kept: the user data folder's datasets/."""
    return data_dir() / "datasets"


def download(cache: str | os.PathLike | None = None, url: str | None = None, sha256: str | None = None,
             progress: bool = False) -> Path:
    """The extracted Groove MIDI folder (the one holding info.csv), downloaded and unpacked
    into the cache on first use. URL and checksum: the arguments, else $DRUMFONT_GMD_URL and
    $DRUMFONT_GMD_SHA256, else the official archive."""
    url = url or os.environ.get(URL_ENV) or URL
    sha256 = sha256 or os.environ.get(SHA256_ENV) or (SHA256 if url == URL else None)
    if not sha256:
        raise DrumfontError(f"{url} is not the official archive: give its SHA-256 in ${SHA256_ENV}")
    size = SIZE if url == URL and sha256 == SHA256 else None
    cache = Path(cache) if cache is not None else cache_dir()
    name = url.rstrip("/").rsplit("/", 1)[-1] or "groove.zip"
    folder = cache / name.removesuffix(".zip")
    if not _info_under(folder):
        archive = fetch(url, cache / name, sha256, size, progress)
        _extract(archive, folder)
    found = _info_under(folder)
    if found is None:
        raise DrumfontError(f"{url}: the archive holds no info.csv; it is not a Groove-MIDI-style dataset")
    return found


def _info_under(folder: Path) -> Path | None:
    """The folder holding info.csv: `folder` itself or one level down (the archive's groove/)."""
    if (folder / "info.csv").is_file():
        return folder
    if folder.is_dir():
        for sub in sorted(folder.iterdir()):
            if (sub / "info.csv").is_file():
                return sub
    return None


def _extract(archive: Path, folder: Path) -> None:
    """Unpack into a temporary folder beside `folder`, then rename it into place (atomic)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for member in members:
                target = (tmp / member.filename).resolve()
                if not target.is_relative_to(tmp.resolve()):
                    raise DrumfontError(f"{archive}: member {member.filename!r} points outside the archive's folder")
            # The sizes the archive states bound what is written: zipfile stops a member at its
            # stated size (and a member that holds more fails its CRC), so a bomb is refused here.
            unpacked = sum(m.file_size for m in members)
            if unpacked > MAX_UNPACKED_BYTES or len(members) > MAX_UNPACKED_FILES:
                archive.unlink(missing_ok=True)
                raise DrumfontError(f"{archive}: unpacks to {unpacked / MiB:,.0f} MB in {len(members):,} files; a "
                                    f"dataset archive may hold at most {MAX_UNPACKED_BYTES / MiB:g} MB in "
                                    f"{MAX_UNPACKED_FILES:,} files (deleted it)")
            zf.extractall(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except zipfile.BadZipFile as exc:
        archive.unlink(missing_ok=True)
        raise DrumfontError(f"{archive}: not a zip archive ({exc}); deleted it, run again to retry") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
