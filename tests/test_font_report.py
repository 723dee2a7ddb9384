"""`drumfont report font`: the read-back, counter, OTS and FontBakery measures, on known fonts."""

from __future__ import annotations

import json

from drumfont.letters import font_report, load_classifier
from drumfont.letters.data import GLYPHS, default_fonts
from tests.font_helpers import tiny_preset


def test_read_back_and_holes_on_a_real_font():
    data = default_fonts()[0].read_bytes()            # DejaVu Sans, a training font
    clf, _ = load_classifier()
    for size in font_report.READ_SIZES:
        ok = font_report.read_back(data, GLYPHS[:36], size, clf)
        assert ok.mean() >= 0.9, size                   # the measure reads a real font's letters
    assert [font_report.rendered_holes(data, c) for c in "BOHA8"] == [2, 1, 0, 1, 2]
    assert font_report.ots_check(data, ".ttf")[0] is True
    assert font_report.ots_check(b"\x00\x01\x00\x00 broken", ".ttf")[0] is False


def test_report_on_a_tiny_generator(tmp_path):
    preset = tiny_preset(tmp_path / "cgan.pt")
    m = font_report.report_font([0], tmp_path / "rep", str(preset))
    assert m["ots_pass"] == 1 and m["holes_all_match"]
    assert m["fontbakery"]["counts"].get("FAIL", 0) == 0 and m["fontbakery"]["counts"].get("PASS", 0) > 20
    row = m["per_seed"][0]
    assert row["glyphs"] == 46 and 0.0 <= row["read_28px"] <= 1.0
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["seeds"] == [0]
    from PIL import Image

    assert Image.open(tmp_path / "rep" / "specimen.png").height > 200
    assert "specimen.png" in (tmp_path / "rep" / "report.md").read_text()


def test_report_without_the_checkers_says_what_to_install_before_any_work(tmp_path, monkeypatch, capsys):
    import sys

    from drumfont.cli import main

    out = tmp_path / "rep"
    monkeypatch.setitem(sys.modules, "ots", None)            # opentype-sanitizer not installed
    assert main(["report", "font", "--seeds", "0", "--out", str(out), "--no-fontbakery"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "opentype-sanitizer" in err and "pip install 'drumfont[test]'" in err
    assert not out.exists()                                  # nothing written
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "fontbakery", None)     # FontBakery missing: named, and how to skip it
    assert main(["report", "font", "--seeds", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "fontbakery" in err and "opentype" not in err and "--no-fontbakery" in err and not out.exists()


def test_report_refuses_existing_outputs_before_any_work(tmp_path, capsys):
    from drumfont.cli import main

    (tmp_path / "metrics.json").write_text("{}")
    assert main(["report", "font", "--seeds", "0", "--out", str(tmp_path), "--no-fontbakery"]) == 2
    assert "metrics.json exists" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]   # no specimen written first


def test_summary_line_says_fontbakery_was_skipped():
    m = {"read_28px_min": 1.0, "read_64px_min": 0.972, "ots_pass": 2, "seeds": [0, 1], "holes_all_match": True,
         "fontbakery": {"skipped": True}}
    assert "FontBakery skipped" in font_report.summary_line(m) and "None" not in font_report.summary_line(m)
    m["fontbakery"] = {"counts": {"PASS": 285, "SKIP": 245}, "issues": [], "files": 2}
    assert "FontBakery 0 FAIL, 0 WARN, 285 PASS" in font_report.summary_line(m)
