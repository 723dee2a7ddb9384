"""Wall time of `drumfont font -o X.otf` end to end beside bare `import torch`, interleaved in
one run (median of --reps each), with the load average, then the CPU seconds of its stages in
one process (generator, tracing, kerning, font file).

    python benchmarks/bench_font.py [--reps 5] [--preset P]

Targets (issue 14): at most 10 s, and at most 3× bare `import torch`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--preset", default=None, help="conditional generator (default: shipped)")
    args = ap.parse_args()
    py = sys.executable
    extra = ["--preset", args.preset] if args.preset else []
    times: dict[str, list[float]] = {"import torch": [], "drumfont font": [], "drumfont font --ttf": []}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {"import torch": [py, "-c", "import torch"],
                "drumfont font": [py, "-m", "drumfont", "font", "-o", str(Path(tmp) / "a.otf"), "--force", *extra],
                "drumfont font --ttf": [py, "-m", "drumfont", "font", "--ttf", "-o", str(Path(tmp) / "a.ttf"),
                                        "--force", *extra]}
        for rep in range(args.reps):
            for name, cmd in cmds.items():
                loads.append(os.getloadavg()[0])
                t = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                times[name].append(time.perf_counter() - t)
                if proc.returncode:
                    raise SystemExit(f"{name} failed: {proc.stderr.strip()[-300:]}")
    torch_s = statistics.median(times["import torch"])
    print(f"median wall time of {args.reps} interleaved runs; 1-min load average {min(loads):.1f}-{max(loads):.1f} "
          f"on {os.cpu_count()} CPUs")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:22s} {med:6.2f} s  (min {min(ts):.2f}, max {max(ts):.2f})  {med / torch_s:4.2f}x import torch")
    stages(args.preset)


def stages(preset: str | None) -> None:
    """CPU seconds per stage of one build, after a warm-up build (imports and model load)."""
    from drumfont.letters import draw_glyphs, font, generator_info, style_latent
    from drumfont.letters import trace as tracer

    font.build_typeface(0, preset=preset)
    gan = generator_info(preset)
    marks = [("generator (46 glyphs)", lambda: draw_glyphs(gan["glyphs"], style_latent(1, preset), preset))]
    images = marks[0][1]()
    marks.append(("trace + place", lambda: font.trace_style(style_latent(1, preset), gan["glyphs"], gan, preset)))
    glyph_map = marks[1][1]()
    marks.append(("kerning pairs", lambda: font.kern_pairs(glyph_map)))
    face = font.Typeface("Bench", glyph_map, font.kern_pairs(glyph_map), "seed 1", gan)
    marks.append(("font file (CFF)", lambda: font.font_bytes(face)))
    marks.append(("font file (TrueType)", lambda: font.font_bytes(face, ttf=True)))
    print(f"CPU seconds per stage of one build ({len(images)} glyphs, {len(face.kerning)} kerning pairs, "
          f"tracer upsample x{tracer.UPSAMPLE}):")
    for name, fn in marks:
        t = time.process_time()
        fn()
        print(f"  {name:22s} {time.process_time() - t:6.3f} s")


if __name__ == "__main__":
    main()
