"""Glyphs that fall apart at half ink, and what joins them: for the 20 training fonts (28 px, no
augmentation) and the GAN's styles, how many glyphs have more pieces than their design
(glyphs.DESIGN_PARTS) at half ink, how many of those `glyphs.joined` brings back to one piece, and
how much ink the joined glyphs gain, against two alternatives: tracing at a lower level, and
raising every stroke by a single gain. For the training fonts it also gives the traced ink over
the true ink (the font's own outline scaled the same way). Decides glyphs.JOIN_GAINS and
JOIN_RADIUS.

    python benchmarks/measure_stroke_joins.py [--preset P] [--seeds 0 1 2 3 4 5 6 7 8 9]
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=None, help="conditional generator (default: shipped)")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--truncation", type=float, default=None, help="default: font.TRUNCATION")
    args = ap.parse_args()
    import torch
    from PIL import ImageFont

    from drumfont.letters import draw_glyphs, style_latent
    from drumfont.letters import trace as tracer
    from drumfont.letters.data import BOX, GLYPHS, NO_AUGMENT, RENDER_PX, _render_glyph, default_fonts, render_letter
    from drumfont.letters.font import TRUNCATION

    torch.set_num_threads(1)
    truncation = TRUNCATION if args.truncation is None else args.truncation
    real, truth = [], []
    for path in default_fonts():
        ft = ImageFont.truetype(str(path), RENDER_PX)
        for ch in GLYPHS:
            img = render_letter(ft, ch, np.random.default_rng(0), NO_AUGMENT).astype(np.float32) / 255
            real.append((ch, img, tracer.upsampled(img), path.name))
            hi = np.asarray(_render_glyph(ft, ch, 0), np.float32) / 255
            truth.append(hi.sum() * (BOX / max(hi.shape)) ** 2)   # ink area in 28-px pixels
    gan = []
    for seed in args.seeds:
        images = draw_glyphs(GLYPHS, style_latent(seed, args.preset, truncation), args.preset)
        gan += [(ch, img, tracer.upsampled(img), f"seed {seed}") for ch, img in zip(GLYPHS, images)]

    def area(field: np.ndarray) -> float:
        return float((field >= tracer.LEVEL).sum()) / tracer.UPSAMPLE ** 2

    def lowered(ch, img, big):
        for level in (0.45, 0.4, 0.35, 0.3):
            if tracer.parts(img, big, level) <= tracer.DESIGN_PARTS.get(ch, 1):
                break
        return big * (tracer.LEVEL / level)   # tracing at `level` is tracing this at half ink

    methods = {
        "joined (shipped)": lambda ch, img, big: tracer.joined(ch, img, big),
        "lower level, to 0.3": lowered,
        "every stroke, gain 1.0": lambda ch, img, big: tracer.raised(big, 1.0),
    }
    for name, items, true in (("training fonts", real, truth), (f"GAN seeds {args.seeds} T={truncation:g}", gan, None)):
        broken = [(k, it) for k, it in enumerate(items) if tracer.parts(it[1], it[2]) > tracer.DESIGN_PARTS.get(it[0], 1)]
        whole = [k for k in range(len(items)) if k not in {k for k, _ in broken}]
        print(f"{name}: {len(broken)} of {len(items)} glyphs in more pieces than their design at half ink")
        by_char: dict[str, int] = {}
        for _, (ch, *_rest) in broken:
            by_char[ch] = by_char.get(ch, 0) + 1
        print("  by glyph:", " ".join(f"{c}:{n}" for c, n in sorted(by_char.items(), key=lambda kv: -kv[1])))
        if true is not None:
            print(f"  glyphs whole at half ink: traced ink / true ink, median {np.median([area(items[k][2]) / true[k] for k in whole]):.2f}")
        for mname, fn in methods.items():
            joined, grow, ratio, holes, left = 0, [], [], 0, []
            for k, (ch, img, big, tag) in broken:
                field = fn(ch, img, big)
                n = tracer.parts(img, field)
                ok = n == tracer.DESIGN_PARTS.get(ch, 1)
                joined += ok
                if not ok:
                    left.append(f"{ch} ({tag})")
                holes += tracer.bitmap_holes(img, field) > max(tracer.DESIGN_COUNTERS.get(ch, 0), tracer.bitmap_holes(img, big))
                grow.append(area(field) / max(area(big), 1e-9))
                if true is not None:
                    ratio.append(area(field) / true[k])
            line = (f"  {mname:24s} joins {joined}/{len(broken)}, ink x{np.mean(grow):.2f} (max {max(grow):.2f}), "
                    f"counters the design lacks: {holes}")
            if ratio:
                line += f", traced / true ink median {np.median(ratio):.2f}"
            print(line)
            if mname.startswith("joined"):
                print("    still in pieces:", ", ".join(left) or "none")


if __name__ == "__main__":
    main()
