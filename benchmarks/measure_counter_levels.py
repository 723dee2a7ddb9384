"""How low the tracer may go to close a bowl: for each floor of glyphs.COUNTER_LEVELS, how many
glyphs with bowls (A B D O P Q R 0 4 6 8 9) reach their design's count of counters, in the 20
training fonts (rendered at 28 px, no augmentation) and in the GAN's styles of seeds 0-4, and how
much a lowered glyph's ink grows. Prints one line per floor; decides glyphs.COUNTER_LEVELS.

    python benchmarks/measure_counter_levels.py [--preset P] [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=None, help="conditional generator (default: shipped)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = ap.parse_args()
    import torch
    from PIL import ImageFont

    from drumfont.letters import draw_glyphs, style_latent
    from drumfont.letters import trace as tracer
    from drumfont.letters.data import NO_AUGMENT, RENDER_PX, default_fonts, render_letter
    from drumfont.letters.font import TRUNCATION

    torch.set_num_threads(1)
    chars = "".join(tracer.DESIGN_COUNTERS)
    real = []
    for path in default_fonts():
        ft = ImageFont.truetype(str(path), RENDER_PX)
        for ch in chars:
            img = render_letter(ft, ch, np.random.default_rng(0), NO_AUGMENT).astype(np.float32) / 255
            real.append((ch, img, tracer.upsampled(img)))
    gan = []
    for seed in args.seeds:
        images = draw_glyphs(chars, style_latent(seed, args.preset, TRUNCATION), args.preset)
        gan += [(ch, img, tracer.upsampled(img)) for ch, img in zip(chars, images)]
    shipped = tracer.COUNTER_LEVELS
    try:
        for floor in (0.5, 0.45, 0.4, 0.35, 0.3, 0.25):
            tracer.COUNTER_LEVELS = tuple(v for v in (0.45, 0.4, 0.35, 0.3, 0.25) if v >= floor)
            line = [f"floor {floor:<4}"]
            for name, items in (("training fonts", real), (f"GAN seeds {args.seeds}", gan)):
                ok, grow = 0, []
                for ch, img, big in items:
                    level = tracer.level_for(ch, img, big)
                    ok += tracer.bitmap_holes(img, big, level) == tracer.DESIGN_COUNTERS[ch]
                    if level < tracer.LEVEL:
                        grow.append((big >= level).sum() / max((big >= tracer.LEVEL).sum(), 1))
                line.append(f"{name}: {ok}/{len(items)} with all counters, {len(grow)} lowered, "
                            f"ink x{np.mean(grow) if grow else 1:.2f} (max {max(grow) if grow else 1:.2f})")
            print("  ".join(line), flush=True)
    finally:
        tracer.COUNTER_LEVELS = shipped
    print(f"shipped COUNTER_LEVELS: {shipped}")


if __name__ == "__main__":
    main()
