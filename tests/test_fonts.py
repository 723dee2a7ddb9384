"""The letter corpus: real fonts found, glyphs centred in 28x28, seeded bytes, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.cli import main
from drumfont.drums.dataset import TRAIN, VAL
from drumfont.errors import DatasetError
from drumfont.letters import data as F


@pytest.fixture(scope="module")
def small():
    return F.build_fonts(seed=3, train_per_letter=3, val_per_letter=2)


def test_default_fonts_are_at_least_ten_real_files():
    fonts = F.default_fonts()
    assert len(fonts) >= 10
    assert all(p.is_file() and p.suffix == ".ttf" for p in fonts)
    assert "mpl-data" in str(fonts[0])


def test_shapes_labels_and_range(small):
    assert small.images.shape == (46 * 5, 28, 28) and small.images.dtype == np.uint8
    assert (np.bincount(small.letter, minlength=46) == 5).all() and small.glyphs == F.GLYPHS
    assert (small.split == TRAIN).sum() == 46 * 3 and (small.split == VAL).sum() == 46 * 2
    x = small.floats()
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert x.max() > 0.9  # real ink, not empty canvases
    assert len(set(small.font.tolist())) >= 10  # fonts are mixed across the set


def test_plain_glyph_is_centred_and_fits():
    from PIL import ImageFont

    font = ImageFont.truetype(str(F.default_fonts()[0]), F.RENDER_PX)
    img = F.render_letter(font, "O").astype(float)
    ys, xs = np.nonzero(img > 30)
    assert ys.max() - ys.min() <= F.BOX + 1 and xs.max() - xs.min() <= F.BOX + 1
    cy, cx = (np.mgrid[0:28, 0:28] * img).sum((1, 2)) / img.sum()
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0


def test_same_seed_same_bytes_other_seed_differs():
    a = F.build_fonts(seed=1, train_per_letter=1, val_per_letter=1).to_bytes()
    b = F.build_fonts(seed=1, train_per_letter=1, val_per_letter=1).to_bytes()
    c = F.build_fonts(seed=2, train_per_letter=1, val_per_letter=1).to_bytes()
    assert a == b and a != c


def test_save_load_roundtrip_and_kind(small, tmp_path):
    path = small.save(tmp_path / "f.npz")
    back = F.FontDataset.load(path)
    assert np.array_equal(back.images, small.images) and back.fonts == small.fonts
    with pytest.raises(DatasetError):
        F.FontDataset.load(tmp_path / "missing.npz")


def test_too_few_fonts_and_symbol_fonts_rejected(tmp_path):
    with pytest.raises(DatasetError, match="at least 10 fonts"):
        F.build_fonts(F.default_fonts()[:3], train_per_letter=1, val_per_letter=1)
    d = F.matplotlib_font_dir()
    assert not F._draws_alphabet(d / "cmex10.ttf")        # math extension symbols
    assert not F._draws_alphabet(d / "STIXSizOneSymReg.ttf")
    assert not F._draws_alphabet(d / "LastResortHE-Regular.ttf")  # one box for every letter
    assert F._draws_alphabet(d / "DejaVuSans.ttf")
    with pytest.raises(DatasetError):
        F.find_fonts(tmp_path / "nope")


def test_cli_writes_and_refuses_overwrite(tmp_path, capsys):
    out = tmp_path / "fonts.npz"
    args = ["data", "fonts", "--out", str(out), "--train-per-letter", "1", "--val-per-letter", "1"]
    assert main(args) == 0
    back = F.FontDataset.load(out)
    assert back.images.shape == (92, 28, 28) and back.layout.shape == (len(back.fonts), 46, 5)
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err
    assert main(args + ["--force", "--fonts", str(tmp_path)]) == 2  # no fonts in that folder


def test_letters_part_is_unchanged_and_layout_places_glyphs(small):
    letters_only = F.build_fonts(seed=3, train_per_letter=3, val_per_letter=2, glyphs=F.LETTERS)
    part = small.first(26)
    assert np.array_equal(part.images, letters_only.images) and part.glyphs == F.LETTERS
    med = small.median_layout()
    assert med["H"][1] == pytest.approx(0, abs=0.02) and med["H"][3] == pytest.approx(1, abs=0.02)
    assert med["."][3] < 0.35 and med[","][1] < -0.1 and med["'"][1] > 0.5   # low, below, high
    assert 0.2 < med["-"][1] < med["-"][3] < 0.6
    with pytest.raises(DatasetError, match="46 glyphs"):
        small.first(47)
