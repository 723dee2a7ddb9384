"""Shared pieces of the TUI tests: app builders, a tiny real VAE engine, waiting for workers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
from PIL import Image

from drumfont.drums import engine as eng


def build_app(tmp_path: Path, engine: eng.Engine | None = None, player_factory=None, **kw):
    """The studio on a temporary data folder, drawing from the rules unless told otherwise."""
    from drumfont.tui.app import make_app

    kw.setdefault("midi", player_factory is not None)
    kw.setdefault("audio", False)  # no test plays to a sound card unless it asks to
    return make_app(tmp_path / "data", engine=engine or eng.RulesEngine(), player_factory=player_factory,
                    export_dir=tmp_path, **kw)


async def settle(pilot) -> None:
    """Let workers finish and their messages land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def wait_until(pilot, cond, timeout: float = 5.0) -> bool:
    """Poll `cond` while the app runs (for the player's clock thread); never a timing claim."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await pilot.pause(0.02)
        await asyncio.sleep(0)
    return bool(cond())


def tiny_vae_engine() -> eng.VaeEngine:
    """The real drum API (`drums.DrumModel`) on a small untrained VAE: the studio's wiring of
    sample / re-roll / morph / transfer is tested without the shipped preset."""
    import torch

    from drumfont.drums import DrumModel
    from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig
    from drumfont.score.genres import RULE_GENRES as GENRES

    torch.manual_seed(0)
    cfg = HVAEConfig(channels=8, hidden=16)
    model = HierarchicalVAE(cfg)
    g = len(GENRES)
    blob = {
        "config": {"model": cfg.to_dict()}, "state_dict": model.state_dict(),
        "extras": {"complete": True, "genres": list(GENRES), "genres_present": list(range(g)),
                   "genre_mean": 2.0 * torch.randn(g, cfg.z_high, generator=torch.Generator().manual_seed(1)),
                   "genre_cov": torch.eye(cfg.z_high).repeat(g, 1, 1)},
    }
    return eng.VaeEngine(DrumModel(blob, "tiny test VAE"))


class TimedRulesEngine(eng.RulesEngine):
    """The genre rules with seeded micro-timing on every hit (as a model trained on real drumming
    gives), so that the studio's lean marks can be tested and pictured without a model."""

    @staticmethod
    def _timed(bars, seed):
        rng = np.random.default_rng(seed)
        return [b.with_offsets(np.round(rng.uniform(-0.45, 0.45, b.velocities.shape), 2)) for b in bars]

    def bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None):
        return self._timed(super().bars(genre, n, temperature, seed), seed)

    def groove_bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None):
        return self._timed(super().groove_bars(genre, n, temperature, seed), seed)


def as_exported(patterns) -> list:
    """What a .mid of these bars reads back as: offsets on the file's ticks, and a hit played
    before the file's first downbeat on it (drumfont.score.midifile's rules)."""
    from drumfont.score.midifile import import_bytes, to_midi_bytes

    return import_bytes(to_midi_bytes(list(patterns))).patterns


NOTE_ON = 0x99



def recording_player():
    """A player factory whose port records what it is sent, and the list of its ports."""
    from drumfont.live import RecordingPort
    from drumfont.tui.app import open_live_player

    made = []

    def factory(transport):
        port = RecordingPort()
        made.append(port)
        return open_live_player(transport, port=port)
    return factory, made


def note_ons(port, note=None):
    return [m for m in port.messages() if m[0] == NOTE_ON and m[2] > 0 and (note is None or m[1] == note)]


def fake_typeface(text: str, seed: int, scale: int) -> Image.Image:
    # A stand-in for the GAN: bars whose widths depend on the seed, so re-rolls differ.
    img = np.zeros((28, 28 * len(text)), np.uint8)
    for i, _ in enumerate(text):
        img[4:24, i * 28 + 4: i * 28 + 8 + seed % 10] = 255
    return Image.fromarray(img).resize((28 * len(text) * scale, 28 * scale))


def tiny_phrase_blob() -> dict:
    """A small untrained phrase model as a checkpoint's fields."""
    import torch

    from drumfont.drums.phrase import PhraseConfig, PhraseVAE
    from drumfont.score.genres import GENRES

    torch.manual_seed(0)
    cfg = PhraseConfig(channels=8, hidden=16, z_bar=4, z_phrase=2, genre_dim=2, context=4, n_genres=len(GENRES),
                       mixture=2)
    return {"config": {"model": cfg.to_dict()}, "state_dict": PhraseVAE(cfg).state_dict(),
            "extras": {"complete": True, "genres": list(GENRES), "genres_present": list(range(len(GENRES)))}}


def tiny_phrase_model():
    """The real phrase API (`drums.phrase_engine.PhraseModel`) on a small untrained phrase model:
    the engine's, the commands' and the studio's wiring of phrases, continue, re-rolled fills and
    songs through the phrase model is tested without its shipped preset."""
    from drumfont.drums import phrase_engine

    return phrase_engine.PhraseModel(tiny_phrase_blob(), "tiny test phrase model")


def tiny_engine_with_phrases() -> eng.VaeEngine:
    """The tiny VAE with the tiny phrase model behind it."""
    vae = tiny_vae_engine()
    return eng.VaeEngine(vae.model, tiny_phrase_model())
