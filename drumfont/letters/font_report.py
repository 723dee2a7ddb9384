"""`drumfont report font`: does a GAN font work where fonts are used? Figures per seed.

For each seed: the .otf (and .ttf) built as `drumfont font` builds it; every glyph rendered by
FreeType (Pillow ImageFont.truetype) at 28 and 64 px, normalised as the training set is, and
read by the letter classifier; the OpenType Sanitizer's verdict (the check browsers apply);
per glyph, the counters read from the outline's winding against the holes of the generator's
image and of the FreeType rendering (a counter wound the wrong way renders filled). FontBakery's
OpenType profile runs over all the files at once. A specimen sheet shows every glyph of the first
seed at two sizes beside real fonts of the training set. OTS and FontBakery are test extras:
without them the report refuses to start (check_tools) rather than print empty figures.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from drumfont.atomic import check_writable, write_atomic
from drumfont.errors import DrumfontError
from drumfont.letters import raster
from drumfont.letters.data import matplotlib_font_dir, render_letter
from drumfont.letters.engine import load_classifier
from drumfont.letters.font import TRUNCATION, build_typeface, font_bytes

READ_SIZES = (28, 64)
OUTPUTS = ("specimen.png", "metrics.json", "report.md")
INSTALL = "pip install 'drumfont[test]'"
SPECIMEN_SIZES = (28, 64)
SPECIMEN_FONTS = ("DejaVuSans.ttf", "DejaVuSerif-Bold.ttf", "STIXGeneral.ttf", "cmtt10.ttf")


def read_back(font: bytes, glyphs: str, size: int, clf) -> np.ndarray:
    """(len(glyphs),) bool: each glyph of the font file, rendered by FreeType at `size` px and
    normalised like the training images, read as itself by the classifier."""
    ft = ImageFont.truetype(io.BytesIO(font), size)
    x = np.stack([render_letter(ft, ch) for ch in glyphs]).astype(np.float32) / 255
    pred, _, _ = clf.classify(x, classes=clf.cfg.n_classes)
    return pred == np.arange(len(glyphs))


def rendered_holes(font: bytes, ch: str, size: int = 256) -> int:
    """Enclosed background regions of the glyph as FreeType fills it (nonzero winding)."""
    ft = ImageFont.truetype(io.BytesIO(font), size)
    img = Image.new("L", (3 * size, 3 * size), 0)
    ImageDraw.Draw(img).text((size, 2 * size), ch, font=ft, fill=255, anchor="ls")
    ink = np.asarray(img) >= 128
    bg, n = raster.label(~ink)
    edge = set(np.unique(np.r_[bg[0], bg[-1], bg[:, 0], bg[:, -1]]))
    sizes = raster.sizes(bg, n)
    return sum(1 for i, s in enumerate(sizes, 1) if i not in edge and s >= 2)


def ots_check(data: bytes, suffix: str) -> tuple[bool | None, str]:
    """(passed, message) of the OpenType Sanitizer; (None, why) when it is not installed."""
    try:
        import ots  # noqa: PLC0415 (optional system library: a missing one is reported when it is used)
    except ImportError:
        return None, "opentype-sanitizer not installed (pip install '.[test]')"
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / f"f{suffix}", Path(d) / f"o{suffix}"
        src.write_bytes(data)
        r = ots.sanitize(str(src), str(dst), capture_output=True)
        return r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace").strip()


def fontbakery(paths: list[Path]) -> dict:
    """FontBakery's OpenType profile on each file alone (each seed is a family of its own):
    result counts over all files, and every WARN/FAIL with its check and message."""
    counts: dict[str, int] = {}
    issues = []
    for path in paths:
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "fb.json"
            cmd = [sys.executable, "-m", "fontbakery", "check-opentype", "--json", str(out), str(path)]
            try:
                subprocess.run(cmd, capture_output=True, timeout=600)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return {"error": str(exc)}
            if not out.is_file():
                return {"error": "fontbakery not installed or failed (pip install '.[test]')"}
            doc = json.loads(out.read_text())
        for section in doc.get("sections", []):
            for check in section.get("checks", []):
                res = check.get("result", "?")
                counts[res] = counts.get(res, 0) + 1
                if res in ("WARN", "FAIL", "ERROR", "FATAL"):
                    msgs = "; ".join(str(m.get("message", {}).get("message", m.get("message")))[:200]
                                     for m in check.get("logs", []) if m.get("status") == res)
                    issues.append({"result": res, "check": str(check.get("key", ["", "?"])[1]).strip("<>"),
                                   "file": path.name, "message": msgs})
    return {"counts": counts, "issues": issues, "files": len(paths)}


def specimen(faces: list[tuple[str, bytes]], glyphs: str, path: Path, force: bool = False) -> Path:
    """Every glyph at each of SPECIMEN_SIZES, one band per font (a label, the small size on one
    line, the large one on two: letters, then digits and punctuation)."""

    small, large = SPECIMEN_SIZES
    rows = [(small, glyphs), (large, glyphs[:26]), (large, glyphs[26:])]
    loaded = [(label, {s: ImageFont.truetype(io.BytesIO(data), s) for s in SPECIMEN_SIZES}) for label, data in faces]

    def width(ft, text: str, size: int) -> float:
        return sum(ft.getlength(ch) + size * 0.12 for ch in text)

    w = 28 + int(max(width(fts[size], text, size) for _, fts in loaded for size, text in rows))
    band = 26 + sum(int(size * 1.3) for size, _ in rows) + 10
    img = Image.new("RGB", (w, band * len(faces)), "white")
    draw = ImageDraw.Draw(img)
    label_font = ImageFont.truetype(str(_training_font("DejaVuSans.ttf")), 15)
    for i, (label, fts) in enumerate(loaded):
        y = i * band + 6
        draw.text((14, y), label, font=label_font, fill=(90, 90, 90))
        y += 22
        for size, text in rows:
            x = 14.0
            for ch in text:
                draw.text((x, y + size), ch, font=fts[size], fill="black", anchor="ls")
                x += fts[size].getlength(ch) + size * 0.12
            y += int(size * 1.3)
        draw.line((0, (i + 1) * band - 4, w, (i + 1) * band - 4), fill=(210, 210, 210))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return write_atomic(path, buf.getvalue(), force=force)


def _training_font(name: str) -> Path:
    return matplotlib_font_dir() / name


def check_tools(fontbakery_check: bool = True) -> None:
    """Refuse, before any work, a report whose checkers are not installed: the OpenType
    Sanitizer always, FontBakery unless it is skipped (both are the test extras)."""
    missing = [pkg for pkg, module, wanted in (("opentype-sanitizer", "ots", True),
                                               ("fontbakery", "fontbakery", fontbakery_check))
               if wanted and importlib.util.find_spec(module) is None]
    if missing:
        skip = "; or pass --no-fontbakery to leave FontBakery out" if missing == ["fontbakery"] else ""
        raise DrumfontError(f"report font needs {' and '.join(missing)} (the test extras), not installed: "
                            f"{INSTALL}{skip}")


def report_font(seeds: list[int], out: Path, preset: str | None = None, force: bool = False,
                fontbakery_check: bool = True, truncation: float | None = None) -> dict:
    """Build a font per seed, measure it, write metrics.json, report.md and specimen.png."""
    if not seeds:
        raise DrumfontError("give at least one --seeds value")
    check_tools(fontbakery_check)
    out = Path(out)
    for name in OUTPUTS:
        check_writable(out / name, force)
    clf, _ = load_classifier()
    per_seed, files = [], []
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            t0 = time.perf_counter()
            face = build_typeface(seed, name=f"Drumfont GAN {seed}", preset=preset,
                                  truncation=TRUNCATION if truncation is None else truncation)
            otf, ttf = font_bytes(face), font_bytes(face, ttf=True)
            built = time.perf_counter() - t0
            chars = "".join(face.glyphs)
            core = [c for c in chars if c.isalnum()]
            row: dict = {"seed": seed, "glyphs": len(chars), "kerning_pairs": len(face.kerning),
                         "build_seconds": round(built, 2)}
            for size in READ_SIZES:
                ok = read_back(otf, chars, size, clf)
                alnum = np.array([c.isalnum() for c in chars])
                row[f"read_{size}px"] = float(ok[alnum].mean())
                row[f"read_{size}px_punct"] = float(ok[~alnum].mean()) if (~alnum).any() else None
                row[f"misread_{size}px"] = "".join(c for c, k in zip(chars, ok) if not k)
            for kind, data, suffix in (("otf", otf, ".otf"), ("ttf", ttf, ".ttf")):
                passed, msg = ots_check(data, suffix)
                row[f"ots_{kind}"] = passed
                if not passed:
                    row[f"ots_{kind}_message"] = msg[:300]
                p = Path(tmp) / f"DrumfontGAN-{seed}{suffix}"
                p.write_bytes(data)
                files.append(p)
            holes = {c: {"winding": g.counters, "image": g.image_holes, "rendered": rendered_holes(otf, c)}
                     for c, g in face.glyphs.items()}
            row["holes"] = holes
            row["holes_match"] = sum(h["winding"] == h["image"] == h["rendered"] for h in holes.values())
            row["holes_mismatch"] = "".join(c for c, h in holes.items() if not h["winding"] == h["image"] == h["rendered"])
            row["counter_glyphs_with_counters"] = "".join(c for c in "ABDOPQR04689" if c in holes and holes[c]["winding"])
            per_seed.append(row)
            if first is None:
                first = (face, otf, core)
        fb = fontbakery(files) if fontbakery_check else {"skipped": True}
    face, otf, core = first
    fonts = [(f"{face.name} ({face.source}) — drawn by {face.gan.get('name')}", otf)]
    fonts += [(f"training font: {n}", _training_font(n).read_bytes()) for n in SPECIMEN_FONTS if _training_font(n).is_file()]
    out.mkdir(parents=True, exist_ok=True)
    specimen(fonts, "".join(face.glyphs), out / OUTPUTS[0], force=force)
    summary = {
        "seeds": seeds, "preset": face.gan, "truncation": TRUNCATION if truncation is None else truncation,
        **{f"read_{s}px_min": min(r[f"read_{s}px"] for r in per_seed) for s in READ_SIZES},
        **{f"read_{s}px_mean": float(np.mean([r[f"read_{s}px"] for r in per_seed])) for s in READ_SIZES},
        "ots_pass": sum(bool(r["ots_otf"]) and bool(r["ots_ttf"]) for r in per_seed),
        "holes_all_match": all(not r["holes_mismatch"] for r in per_seed),
        "fontbakery": fb, "per_seed": per_seed,
    }
    write_atomic(out / OUTPUTS[1], json.dumps(summary, indent=1).encode(), force=force)
    write_atomic(out / OUTPUTS[2], _markdown(summary).encode(), force=force)
    return summary


def summary_line(m: dict) -> str:
    """The report in one line, as the CLI prints it."""
    fb = m["fontbakery"]
    if fb.get("skipped"):
        fb_text = "FontBakery skipped"
    elif "error" in fb:
        fb_text = f"FontBakery failed ({fb['error']})"
    else:
        counts = fb.get("counts", {})
        fb_text = f"FontBakery {counts.get('FAIL', 0)} FAIL, {counts.get('WARN', 0)} WARN, {counts.get('PASS', 0)} PASS"
    return (f"read back @28 px >= {m['read_28px_min']:.3f}, @64 px >= {m['read_64px_min']:.3f}; OTS passed "
            f"{m['ots_pass']}/{len(m['seeds'])}; {fb_text}; counters all match: {m['holes_all_match']}")


def _markdown(m: dict) -> str:
    lines = [f"# GAN font report ({m['preset'].get('name')} {m['preset'].get('sha256')}, seeds {m['seeds']}, "
             f"truncation {m['truncation']})", "",
             "![specimen](specimen.png)", "",
             "| seed | read @28 px (A–Z, 0–9) | read @64 px | punctuation @28 / @64 | misread @28 | OTS otf/ttf "
             "| holes: winding = image = FreeType | kerning pairs | build s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in m["per_seed"]:
        p28, p64 = r.get("read_28px_punct"), r.get("read_64px_punct")
        lines.append(f"| {r['seed']} | {r['read_28px']:.3f} | {r['read_64px']:.3f} | "
                     f"{p28 if p28 is None else round(p28, 2)} / {p64 if p64 is None else round(p64, 2)} | "
                     f"{r['misread_28px'] or '—'} | {r['ots_otf']}/{r['ots_ttf']} | "
                     f"{r['holes_match']}/{r['glyphs']} {('(' + r['holes_mismatch'] + ')') if r['holes_mismatch'] else ''} | "
                     f"{r['kerning_pairs']} | {r['build_seconds']} |")
    fb = m["fontbakery"]
    lines += ["", f"FontBakery check-opentype, each of {fb.get('files')} files alone: {fb.get('counts', fb)}", ""]
    for issue in fb.get("issues", []):
        lines.append(f"- {issue['result']} {issue['check']} ({issue['file']}): {issue['message']}")
    return "\n".join(lines) + "\n"
