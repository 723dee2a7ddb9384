"""The phrase API on a trained phrase model: sample a phrase of a genre with or without a fill,
continue a player's bars in their own feel, re-roll a phrase's fill, and lay out a song.

Signatures carry numpy arrays and Patterns only; the model runs on numpy (drums/phrase_net.py), and
every random draw of a call comes from one `numpy.random.Generator`.
Runs longer than 8 bars are phrases of at most 8 bars chained bar to bar (`phrase_data.chunks`):
each phrase's conductor starts from the same phrase latent (the drummer's feel) and reads the last
bar of the phrase before it, so a song or a continuation keeps one feel throughout. Each bar is
decoded before the next reads it. Temperature scales the spread of the phrase latent and of every
bar code around the genre's calibrated spread; a cell is a hit where its logit passes the genre's
calibrated threshold (both fitted on training phrases after training, see trainers/train_phrase.py
`calibrate`; a checkpoint without them samples at the prior's own spread and p > 0.5). 0 = the
most likely phrase of the genre.

Song mode: each section (a name and 1-64 bars) is a phrase run with its own variation of the
groove: its phrase latent is drawn correlated (RHO) with the song's, so sections differ the way a
drummer's verse and chorus do while the feel stays; a section whose name came before returns with
that section's latent and seed (verse 2 plays verse 1's groove). The last bar before every change
of section is conditioned as a fill, and the next section's downbeat gets a crash: the model alone
plays one after a fill about a third of the time (as drummers in the data do), song mode always.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.drums import phrase_data
from drumfont.drums.nets import model_input
from drumfont.drums.phrase_net import PhraseConfig, PhraseNet, conditions, context_grids, gaussian_log_density
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.nn import preset as presets
from drumfont.paths import preset_path
from drumfont.score.pattern import CRASH, Pattern, stack, stack_offsets

F32 = np.float32

PRESET_NAME = "drums_phrase.safetensors"
KIND = "phrase"
FILLS = ("end", "none")
MAX_SECTION_BARS = 64
MAX_SONG_BARS = 512
MAX_CONTINUE_BARS = 32
RHO = 0.7                 # correlation of a section's phrase latent with the song's
CRASH_VELOCITY = 100      # the least velocity of the crash song mode adds after a fill
_FORM_ITEM = re.compile(r"^\s*([^:,]*?)\s*:\s*([^:,]*?)\s*$")


@dataclass(frozen=True)
class Section:
    """One section of a song: its name, its bars, which of them is conditioned as a fill, and
    whether its downbeat carries the crash after the previous section's fill."""

    name: str
    patterns: tuple[Pattern, ...]
    fills: tuple[bool, ...]
    crash: bool


def parse_form(form: str) -> list[tuple[str, int]]:
    """"intro:4,verse:8,chorus:8" -> [("intro", 4), ("verse", 8), ("chorus", 8)]; names are free
    text (no ':' or ','), 1-64 bars a section, at most 512 in all. A malformed form is one
    DrumfontError naming the bad item."""
    if not form or not form.strip():
        raise DrumfontError('the form is empty; give sections as NAME:BARS, e.g. "intro:4,verse:8"')
    out = []
    for item in form.split(","):
        m = _FORM_ITEM.match(item)
        if not m or not m.group(1):
            raise DrumfontError(f"form item {item.strip()!r} is not NAME:BARS (e.g. verse:8)")
        name, count = m.group(1), m.group(2)
        if not count.isdigit():
            raise DrumfontError(f"form item {item.strip()!r}: the bar count {count!r} is not a whole number")
        bars = int(count)
        if not 1 <= bars <= MAX_SECTION_BARS:
            raise DrumfontError(f"form item {item.strip()!r}: a section has 1-{MAX_SECTION_BARS} bars, got {bars}")
        out.append((name, bars))
    total = sum(b for _, b in out)
    if total > MAX_SONG_BARS:
        raise DrumfontError(f"the form has {total} bars; a song has at most {MAX_SONG_BARS}")
    return out


def _patterns(hits: np.ndarray, vel: np.ndarray, off: np.ndarray) -> list[Pattern]:
    v = np.where(hits, np.clip(np.rint(vel * 127.0), 1, 127), 0).astype(np.uint8)
    return Pattern.batch(v, off)


def _sampling(sampling, n: int, source: str):
    """(spread (n + 1,), threshold (n + 1,)) arrays of a checkpoint's calibration (see
    trainers/train_phrase.py `calibrate`); the prior's own spread and p > 0.5 where it has none.
    The last entry serves unlabelled phrases."""
    spread, threshold = [1.0] * n, [0.0] * n
    if sampling is not None:
        ok = isinstance(sampling, dict) and all(
            isinstance(sampling.get(k), list) and len(sampling[k]) == n
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in sampling[k])
            for k in ("spread", "threshold"))
        if not ok or min(sampling["spread"], default=1.0) < 0:
            raise CheckpointError(f"{source}: field extras.sampling must hold a spread >= 0 and a threshold per genre")
        spread, threshold = list(sampling["spread"]), list(sampling["threshold"])
    return np.array(spread + [1.0], F32), np.array(threshold + [0.0], F32)


def _check_fill(fill: str) -> None:
    if fill not in FILLS:
        raise DrumfontError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")


def _check_temperature(temperature: float) -> None:
    if not np.isfinite(temperature) or temperature < 0:
        raise DrumfontError(f"temperature must be a number >= 0, got {temperature}")


def _generator(seed: int | None) -> np.random.Generator:
    """The one random stream of a call: seeded, or fresh from the OS where seed is None."""
    return np.random.default_rng(None if seed is None else int(seed))


class PhraseModel:
    """A loaded phrase model (a conductor over bar codes with a phrase latent)."""

    def __init__(self, blob: dict, source: str = "") -> None:
        blob = presets.from_checkpoint(blob)  # tensors of an in-memory torch checkpoint as arrays
        extras = blob.get("extras", {})
        model_cfg = blob.get("config", {}).get("model") if isinstance(blob.get("config"), dict) else None
        cfg = presets.make_config(PhraseConfig, model_cfg, f"{source}: config.model")
        self._model = presets.build(source, lambda: PhraseNet(cfg, blob["state_dict"]))
        if extras.get("complete") is not True:
            raise CheckpointError(f"{source}: an unfinished training run; finish it with "
                                  "`drumfont train phrase --resume --out ...`")
        self.config = self._model.cfg
        if self.config.max_bars != phrase_data.MAX_BARS:
            raise CheckpointError(f"{source}: field config.model.max_bars must be {phrase_data.MAX_BARS}")
        genres = extras.get("genres", [])
        if not isinstance(genres, list) or not all(isinstance(g, str) for g in genres):
            raise CheckpointError(f"{source}: field extras.genres must be a list of genre names")
        present = extras.get("genres_present", list(range(len(genres))))
        if not isinstance(present, list) or not all(isinstance(i, int) and 0 <= i < len(genres) for i in present):
            raise CheckpointError(f"{source}: field extras.genres_present must list indices into the genres")
        self._genre_index = {genres[i]: i for i in present}
        self._spread, self._threshold = _sampling(extras.get("sampling"), len(genres), source)
        self.timed = bool(extras.get("timing", True))
        self.source = source
        self.metrics = blob.get("metrics", {})

    # --- helpers -------------------------------------------------------------------------------
    @property
    def genres(self) -> tuple[str, ...]:
        """The genres this model can play."""
        return tuple(self._genre_index)

    def _genre(self, genre: str) -> int:
        g = str(genre).lower()
        if g not in self._genre_index:
            raise DrumfontError(f"unknown genre {genre!r}; this model knows: {', '.join(self.genres)}")
        return self._genre_index[g]

    def _encode(self, hits: np.ndarray, vel: np.ndarray, off: np.ndarray):
        """Bars (B, L, 16, 9) (velocities 0..127) as the model reads them (B, L, 16, 27), and the
        posterior mean of their phrase latent (B, z_phrase)."""
        x = model_input(np.asarray(hits) > 0, np.asarray(vel, F32) / F32(127.0), np.asarray(off, F32))
        mu_p, _ = self._model.encode_phrase(x)
        return x, mu_p

    def _timing(self, off: np.ndarray) -> np.ndarray:
        return off if self.timed else np.zeros_like(off)

    def _chain(self, genre: np.ndarray, z_p, fills: np.ndarray, gen, temperature: float,
               forced_x=None, x_prev=None, prev_fill: np.ndarray | None = None):
        """Bars of B runs of n bars (n = fills.shape[1]) as phrases of at most 8 chained bar to bar:
        the new bars' hits (B, n - k, 16, 9) bool, velocities [0, 1], offsets, and the last bar as
        the model reads it (for the next run). `forced_x` (B, k, 16, 27) fixes the first k bars (a
        player's); x_prev / prev_fill are the bar and fill flag before the run (none by default)."""
        b, n = fills.shape
        g = np.asarray(genre, np.int64)
        has_prev = np.full(b, x_prev is not None)
        prev_x = np.zeros((b, self.config.steps, 3 * self.config.voices), F32) if x_prev is None else x_prev
        pf = np.zeros(b, bool) if prev_fill is None else np.asarray(prev_fill, bool)
        fl = np.asarray(fills, bool)
        k = 0 if forced_x is None else forced_x.shape[1]
        # each genre's calibrated spread of bar codes, scaled by the temperature, and hit threshold
        row = self._model.genre_index(g)
        spread, threshold = temperature * self._spread[row], self._threshold[row]
        hits, vels, offs = [], [], []
        start = 0
        for length in phrase_data.chunks(n):
            cond = conditions(fl[:, start:start + length], pf, has_prev, self.config.max_bars)
            known = min(max(k - start, 0), length)
            h, v, o = self._model.generate(z_p, g, cond, prev_x, gen, spread,
                                           forced_x[:, start:start + known] if known else None, threshold)
            hits.append(h)
            vels.append(v)
            offs.append(o)
            pf = fl[:, start + length - 1]
            if known == length:
                prev_x = forced_x[:, start + length - 1]
            else:
                prev_x = model_input(h[:, -1], v[:, -1], o[:, -1])
            has_prev = np.ones(b, bool)
            start += length
        return np.concatenate(hits, 1), np.concatenate(vels, 1), self._timing(np.concatenate(offs, 1)), prev_x

    def _fills(self, b: int, bars: int, fill: str) -> np.ndarray:
        f = np.zeros((b, bars), bool)
        if fill == "end":
            f[:, -1] = True
        return f

    # --- sampling ------------------------------------------------------------------------------
    def sample_arrays(self, genre: str, n: int, bars: int = 4, fill: str = "end", temperature: float = 1.0,
                      seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n phrases of `bars` bars as arrays: hits (n, bars, 16, 9) bool, velocities in [0, 1],
        offsets in sixteenths."""
        _check_fill(fill)
        if n < 1:
            raise DrumfontError(f"the number of phrases must be at least 1, got {n}")
        if not 1 <= bars <= MAX_SONG_BARS:
            raise DrumfontError(f"a phrase has 1-{MAX_SONG_BARS} bars, got {bars}")
        return self.sample_flagged(genre, self._fills(n, bars, fill), temperature, seed)

    def sample_flagged(self, genre: str, fills: np.ndarray, temperature: float = 1.0, seed: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One run of bars per row of `fills` (n, bars) bool, each bar conditioned as a fill where
        its flag is set (runs past 8 bars are chained phrases): hits, velocities, offsets."""
        _check_temperature(temperature)
        fills = np.asarray(fills, bool)
        if fills.ndim != 2 or fills.shape[0] < 1 or fills.shape[1] < 1:
            raise DrumfontError(f"fill flags must be (phrases, bars), got shape {fills.shape}")
        g = np.full(len(fills), self._genre(genre))
        gen = _generator(seed)
        z_p = self._model.sample_phrase_latent(g, gen, temperature)
        return self._chain(g, z_p, fills, gen, temperature)[:3]

    def sample(self, genre: str, bars: int = 4, fill: str = "end", temperature: float = 1.0,
               seed: int | None = None) -> list[Pattern]:
        """One phrase of `bars` bars of a genre; fill "end" plays a fill in its last bar."""
        h, v, o = self.sample_arrays(genre, 1, bars, fill, temperature, seed)
        return _patterns(h[0], v[0], o[0])

    # --- a player's bars ----------------------------------------------------------------------------
    def infer_genre(self, patterns: Sequence[Pattern]) -> str:
        """The genre under which the model finds the bars likeliest: log p(z_p | genre) plus, bar
        by bar, the log density of each bar's code under the conductor's prior given the bars
        before it and that genre (posterior means; runs past 8 bars in chained phrases). On 300
        4-bar phrases of each split it names 89 % of training and 56 % of validation phrases'
        genres (the style classifier: 60 % of single validation bars); z_p's prior alone named 35 %."""
        if not patterns:
            raise DrumfontError("no bars to find the genre of")
        v = stack(patterns)[None]
        names = self.genres
        g = np.array([self._genre_index[n] for n in names], np.int64)
        x, mu_p = self._encode(v > 0, v, stack_offsets(patterns)[None])
        x, mu_p = np.repeat(x, len(g), 0), np.repeat(mu_p, len(g), 0)
        pm, plv = self._model.prior_phrase(g)
        score = gaussian_log_density(mu_p, pm, plv)
        prev, has = np.zeros_like(x[:, 0]), np.zeros(len(g), bool)
        start = 0
        for length in phrase_data.chunks(x.shape[1]):
            part = x[:, start:start + length]
            ctx = context_grids(part, prev)
            mu, _ = self._model.encode_bars(part, ctx)
            cond = conditions(np.zeros((len(g), length), bool), np.zeros_like(has), has, self.config.max_bars)
            _, prior, _ = self._model.conduct(ctx[..., : part.shape[-1]], cond, g, self._model.start(mu_p, g))
            score = score + prior.log_density(mu).sum(1)
            prev, has = part[:, -1], np.ones_like(has)
            start += length
        return names[int(score.argmax())]

    def continue_arrays(self, hits: np.ndarray, velocities: np.ndarray, offsets: np.ndarray, bars: int,
                        genre: str | None = None, temperature: float = 1.0, seed: int | None = None,
                        fill: str = "none") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`continue_` on a batch of B players' runs of k bars each ((B, k, 16, 9) arrays,
        velocities 0..127): the B continuations, (B, bars, 16, 9) each."""
        _check_fill(fill)
        _check_temperature(temperature)
        hits = np.asarray(hits) > 0
        b, k = hits.shape[:2]
        if k < 1:
            raise DrumfontError("continue needs at least one bar to continue")
        if not 1 <= bars <= MAX_CONTINUE_BARS:
            raise DrumfontError(f"continue plays 1-{MAX_CONTINUE_BARS} bars, got {bars}")
        if genre is None:
            gi = np.array([self._genre(self.infer_genre(_patterns(hits[i], np.asarray(velocities[i]) / 127.0,
                                                                   offsets[i]))) for i in range(b)])
        else:
            gi = np.full(b, self._genre(genre))
        # The player's own fills, found as in the training data, condition their bars.
        given = np.stack([phrase_data.detect_fills(hits[i], np.zeros(k, np.int64), np.arange(k))
                          for i in range(b)])
        fills = np.concatenate([given, self._fills(b, bars, fill)], axis=1)
        gen = _generator(seed)
        x, z_p = self._encode(hits, velocities, offsets)  # the player's feel: their phrase latent
        h, v, o, _ = self._chain(gi, z_p, fills, gen, temperature, forced_x=x)
        # The decoder gives each hit's expected timing; the player's looseness around it is
        # what the model's playback of their own bars misses. Measured on their bars, it is
        # drawn onto the new hits (without it the new bars' offset spread was 0.51x the input's).
        jitter = self._jitter(x, hits, np.asarray(offsets, F32), gi, given)
        noise = gen.standard_normal(o.shape, dtype=F32) * jitter[:, None, None, None]
        return h, v, np.where(h, np.clip(o + noise, -0.5, 0.49), 0.0).astype(F32)

    def _jitter(self, x, hits: np.ndarray, offsets: np.ndarray, genre: np.ndarray, fills: np.ndarray) -> np.ndarray:
        """(B,) the std of each player's offsets around the model's playback of their bars (hits
        both play), 0 where fewer than two such hits or a model without timing."""
        if not self.timed:
            return np.zeros(len(hits), np.float32)
        rec_h, rec_o = [], []
        start = 0
        for length in phrase_data.chunks(hits.shape[1]):
            rh, _, ro = self._model.reconstruct(x[:, start:start + length], genre, fills[:, start:start + length])
            rec_h.append(rh)
            rec_o.append(ro)
            start += length
        both = hits & np.concatenate(rec_h, 1)
        resid = np.where(both, offsets - np.concatenate(rec_o, 1), 0.0)
        n = both.sum((1, 2, 3))
        mean = resid.sum((1, 2, 3)) / np.maximum(n, 1)
        var = (np.where(both, resid - mean[:, None, None, None], 0.0) ** 2).sum((1, 2, 3)) / np.maximum(n - 1, 1)
        return np.where(n > 1, np.sqrt(var), 0.0).astype(np.float32)

    def continue_(self, patterns: Sequence[Pattern], bars: int, genre: str | None = None,
                  temperature: float = 1.0, seed: int | None = None, fill: str = "none") -> list[Pattern]:
        """`bars` new bars that carry on from the player's `patterns` in their own feel (their
        phrase latent: timing and dynamics as well as the groove, and their looseness: `_jitter`),
        the player's first bar taken as a phrase's first; genre None: the genre the bars sound
        most like (`infer_genre`)."""
        if not patterns:
            raise DrumfontError("continue needs at least one bar to continue")
        v, o = stack(patterns), stack_offsets(patterns)
        h, vel, off = self.continue_arrays(v[None] > 0, v[None], o[None], bars, genre, temperature, seed, fill)
        return _patterns(h[0], vel[0], off[0])

    def regenerate_fill(self, phrase: Sequence[Pattern], genre: str | None = None, temperature: float = 1.0,
                        seed: int | None = None) -> list[Pattern]:
        """The phrase with a new fill in its last bar: bars 1..N-1 are returned as given, the last
        is drawn again, conditioned as a fill after them, in the phrase's feel."""
        if len(phrase) < 2:
            raise DrumfontError("a phrase needs at least 2 bars to re-roll its fill")
        head = list(phrase[:-1])
        new = self.continue_(head, 1, genre, temperature, seed, fill="end")
        return head + new

    # --- songs ----------------------------------------------------------------------------------
    def song(self, genre: str, form: str | Sequence[tuple[str, int]], temperature: float = 1.0,
             seed: int | None = None) -> list[Section]:
        """A song laid out by `form` ("intro:4,verse:8,..." or (name, bars) pairs): every section
        a phrase run with its own variation, a fill in the last bar before each change of section
        and a crash on the downbeat after it (see the module's docstring)."""
        _check_temperature(temperature)
        items = parse_form(form) if isinstance(form, str) else [(str(n), int(b)) for n, b in form]
        if not items:
            raise DrumfontError("the form has no section")
        total = sum(b for _, b in items)
        if total > MAX_SONG_BARS or min(b for _, b in items) < 1:
            raise DrumfontError(f"a song has sections of 1-{MAX_SECTION_BARS} bars, at most {MAX_SONG_BARS} in all")
        g = self._genre(genre)
        gen = _generator(seed)
        mu, logvar = self._model.prior_phrase(np.array([g]))
        sd = F32(temperature) * np.exp(F32(0.5) * logvar)
        eps_song = gen.standard_normal(mu.shape, dtype=F32)
        latents: dict[str, tuple] = {}
        out, prev_x, prev_fill = [], None, None
        for i, (name, bars) in enumerate(items):
            if name not in latents:
                eps = F32(RHO) * eps_song + F32((1 - RHO ** 2) ** 0.5) * gen.standard_normal(mu.shape, dtype=F32)
                latents[name] = (mu + sd * eps, int(gen.integers(2**31 - 1)))
            z_p, section_seed = latents[name]
            fills = self._fills(1, bars, "end" if i < len(items) - 1 else "none")
            h, v, o, prev_x = self._chain(np.array([g]), z_p, fills, _generator(section_seed), temperature,
                                          x_prev=prev_x, prev_fill=prev_fill)
            h, v, o = h[0].copy(), v[0].copy(), o[0].copy()
            crash = i > 0
            if crash:  # the downbeat after the previous section's fill
                h[0, 0, CRASH] = True
                v[0, 0, CRASH] = max(v[0, 0, CRASH], CRASH_VELOCITY / 127.0)
            out.append(Section(name, tuple(_patterns(h, v, o)), tuple(bool(x) for x in fills[0]), crash))
            prev_fill = fills[:, -1]
        return out

    # --- measuring ------------------------------------------------------------------------------
    def reconstruct_arrays(self, hits: np.ndarray, velocities: np.ndarray, offsets: np.ndarray,
                           genre: np.ndarray, fills: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Phrases (B, L, 16, 9) (velocities 0..127) decoded from their posterior means alone (the
        decoder reading its own bars, `PhraseVAE.reconstruct`), conditioned on their genres (B,)
        (dataset indices, -1 = unlabelled) and fill flags (B, L): hits bool, velocities [0, 1],
        offsets."""
        x = model_input(np.asarray(hits) > 0, np.asarray(velocities, F32) / F32(127.0), np.asarray(offsets, F32))
        rh, rv, ro = self._model.reconstruct(x, np.asarray(genre, np.int64), np.asarray(fills, bool))
        return rh, rv, self._timing(ro)

    def genre_index(self, genre: str) -> int:
        """The dataset index of a genre (for `reconstruct_arrays`)."""
        return self._genre(genre)


def preset_available() -> bool:
    """True when the shipped phrase model is installed."""
    return preset_path(PRESET_NAME).is_file()


def load(preset: str | os.PathLike | None = None) -> PhraseModel:
    """A PhraseModel from a checkpoint: None for the shipped preset, or a path."""
    path = preset_path(PRESET_NAME) if preset is None else Path(preset)
    if preset is None and not path.is_file():
        raise CheckpointError(f"the shipped phrase model {path} is missing; reinstall drumfont or pass a path")
    return PhraseModel(presets.load(path, KIND), str(path))
