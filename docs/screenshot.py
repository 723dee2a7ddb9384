"""Make docs/studio.png: the studio at 80x24 with the shipped drum VAE, as a user first sees it.

Run from the repository root: `python docs/screenshot.py` (needs the test extras for cairosvg).
The MIDI output is a recording port named like the studio's virtual port, so no MIDI system is
needed; the studio's session goes to a temporary folder, never to yours.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from functools import partial
from pathlib import Path

import cairosvg

from drumfont.drums.engine import load_engine
from drumfont.live.ports import RecordingPort
from drumfont.tui.app import make_app
from drumfont.tui.live import open_live_player

# Five genres on from rock to funk, four samples, bar A; a sample in slot 2, bar B; back to slot 1.
KEYS = ["g"] * 5 + ["s"] * 4 + ["a", "2", "s", "b", "1"]


class VirtualPort(RecordingPort):
    port_name = "drumfont"


async def shoot(svg: Path) -> None:
    data = Path(tempfile.mkdtemp(prefix="drumfont-shot-"))
    engine = load_engine()
    if engine.name != "vae":
        sys.exit(f"the drum model did not load: {engine.reason}")
    app = make_app(data, engine=engine, audio=False, export_dir=data,
                   player_factory=partial(open_live_player, port=VirtualPort()))
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ["noop", *KEYS]:
            if key != "noop":
                await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot(svg.name, path=str(svg.parent))


def main() -> None:
    out = Path(__file__).with_name("studio.png")
    with tempfile.TemporaryDirectory() as tmp:
        svg = Path(tmp) / "studio.svg"
        asyncio.run(shoot(svg))
        cairosvg.svg2png(url=str(svg), write_to=str(out), output_width=1400)
    print(out)


if __name__ == "__main__":
    main()
