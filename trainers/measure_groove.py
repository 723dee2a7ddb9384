"""Measure Groove (humanize) and Drumify on the Groove MIDI validation split (grouped by file):
every figure of the issue's table, printed, written as JSON and markdown, with the timing
histograms (real, quantised, humanised).

    python -m drumfont.trainers.measure_groove --data gmd.npz --out reports/groove [--humanize P] [--drumify P]

Humanize gets each validation bar's hits only (quantised: offsets 0, velocities flattened) and
is scored against the bar as played: timing MAE (ms at 120 BPM) and velocity MAE on hit cells,
beside the quantised input and the mean-groove baseline (each genre's mean offset and velocity
per step and voice, fitted on the training bars with real timing); per-voice offset spread of the
outputs against the real bars'; hits changed, counted after a round trip through MIDI files
(flat export -> `retime_drums` -> import), the path the command takes. Drumify gets each bar's
tap line and is scored by hit F1 against the bar the taps came from, beside two rule baselines,
and by the share of tap steps that hold a hit (before and after the fill-in rule).
Temperatures 0 and the default are both reported; the style is each bar's own genre and the
tempo its file's (the Groove MIDI file name's BPM, what the file's own tempo event says).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.drums import groove
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.drums.metrics import groove_baselines, sixteenth_ms
from drumfont.drums.plots import timing_histograms
from drumfont.score.midifile import ExportOptions, import_bytes, to_midi_bytes
from drumfont.score.pattern import VOICES, Pattern
from drumfont.score.retime import retime_drums

BPM = 120.0
MIN_VOICE_HITS = 100


def f1(real: np.ndarray, pred: np.ndarray) -> float:
    """Hit F1 over all cells of all bars."""
    real, pred = np.asarray(real, bool), np.asarray(pred, bool)
    tp = (real & pred).sum()
    return float(2 * tp / max(1, real.sum() + pred.sum()))


def humanize_figures(tool, ds, tr, va, temperature: float, seed: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """Scores of humanize on the validation bars at one temperature, and its (velocities, offsets)."""
    from drumfont.trainers.train_groove import file_tempo  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    vel, off = ds.velocities[va].astype(np.float64), ds.timing[va].astype(np.float64)
    hit = vel > 0
    flat = [Pattern(np.where(h, 100, 0).astype(np.uint8)) for h in hit]
    bpm = np.array([file_tempo(ds.sources[r][0]) for r in va])
    hv, ho = np.zeros(vel.shape), np.zeros(off.shape)
    for i in range(0, len(flat), 512):  # each bar in its own style, at its own file's tempo
        block = np.arange(i, min(i + 512, len(flat)))
        for g, t in sorted({(int(ds.genre[va][j]), float(bpm[j])) for j in block}):
            rows = [j for j in block if ds.genre[va][j] == g and bpm[j] == t]
            style = ds.genres[g] if g >= 0 and ds.genres[g] in tool.genres else None
            res = groove.humanize([flat[j] for j in rows], style, 1.0, temperature, seed + i, tool, t)
            hv[rows] = [p.velocities for p in res]
            ho[rows] = [p.offsets for p in res]
    ms = sixteenth_ms(BPM)
    spread = {}
    for k, name in enumerate(VOICES):
        m = hit[:, :, k]
        if m.sum() >= MIN_VOICE_HITS:
            real_sd, out_sd = off[:, :, k][m].std() * ms, ho[:, :, k][m].std() * ms
            spread[name] = {"hits": int(m.sum()), "real_sd_ms": float(real_sd), "humanized_sd_ms": float(out_sd),
                            "ratio": float(out_sd / real_sd)}
    return ({"temperature": temperature,
             "timing_mae_ms": float(np.abs(ho - off)[hit].mean() * ms),
             "velocity_mae": float(np.abs(hv - vel)[hit].mean()),
             "offset_spread": spread,
             "spread_worst_ratio_error": max(abs(s["ratio"] - 1) for s in spread.values()),
             "hits_changed_in_process": int(((hv > 0) != hit).sum())}, hv, ho)


def hits_changed_through_midi(tool, ds, va, temperature: float, seed: int, n_bars: int = 256) -> dict:
    """Export validation bars flat (velocity 100, on the grid) as one file, humanize it the way
    the command does, import both: how many hit cells differ."""
    rows = va[:n_bars]
    bars = [Pattern(np.where(ds.velocities[r] > 0, 100, 0).astype(np.uint8)) for r in rows]
    data = to_midi_bytes(bars, ExportOptions(bpm=BPM))
    out, _ = retime_drums(data, lambda ps: groove.humanize(ps, None, 1.0, temperature, seed, tool, BPM))
    before = import_bytes(data).patterns
    after = import_bytes(out).patterns
    changed = sum(int((a.hits != b.hits).sum()) for a, b in zip(before, after)) + abs(len(before) - len(after)) * 144
    return {"bars": len(before), "hits": int(sum(p.hits.sum() for p in before)), "hits_changed": changed}


def drumify_figures(tool, ds, va, temperature: float, seed: int) -> dict:
    """Hit F1 of drumified taps against the real bars, tap coverage, and the rule baselines."""
    vel = ds.velocities[va]
    real = vel > 0
    taps = np.stack([groove.taps_of(ds.pattern(r)) for r in va])
    pred = np.zeros(real.shape, bool)
    raw_cover = []
    for g in np.unique(ds.genre[va]):
        rows = np.flatnonzero(ds.genre[va] == g)
        style = ds.genres[g] if g >= 0 and ds.genres[g] in tool.genres else None
        bars = groove.drumify(taps[rows], style, 1, temperature, seed, tool)[0]
        pred[rows] = np.stack([b.hits for b in bars])
        cond = np.concatenate([taps[rows][..., :1], taps[rows][..., 1:2] / 127, 2 * taps[rows][..., 2:3]], -1)
        logits, _, _ = tool.run(cond, tool.genre_index(style), temperature, seed)
        raw_cover.append((groove.raw_tap_coverage(taps[rows], logits), (taps[rows][..., 0] > 0).sum()))
    on = taps[..., 0] > 0
    kick_snare = np.stack([b.hits for b in groove.rules_drumify(taps)])
    with_hats = np.stack([b.hits for b in groove.rules_drumify(taps, hats=True)])
    return {"temperature": temperature, "hit_f1": f1(real, pred),
            "hit_f1_rules_kick_snare": f1(real, kick_snare), "hit_f1_rules_kick_snare_hats": f1(real, with_hats),
            "tap_coverage": float((on & pred.any(-1)).sum() / on.sum()),
            "tap_coverage_model_alone": float(sum(c * n for c, n in raw_cover) / sum(n for _, n in raw_cover)),
            "hits_off_taps": float((pred & ~on[..., None]).sum() / max(1, pred.sum()))}


def main(argv: Sequence[str] | None = None) -> int:
    """Print and write every figure."""
    from drumfont.trainers.train_groove import real_timing_rows  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--out", default="reports/groove")
    p.add_argument("--humanize", default=None, help="humanize checkpoint (default: shipped)")
    p.add_argument("--drumify", default=None, help="drumify checkpoint (default: shipped)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true")
    args = p.parse_args(argv)
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    torch.set_num_threads(1)
    out = Path(args.out)
    ds = DrumDataset.load(args.data)
    real = real_timing_rows(ds)
    tr = np.flatnonzero((ds.split == TRAIN) & real)
    va = np.flatnonzero((ds.split == VAL) & real & (ds.velocities.reshape(len(ds), -1).max(1) > 0))
    res: dict = {"validation_bars": int(len(va)), "bpm": BPM}

    # --- humanize ------------------------------------------------------------------------------
    h = groove.load("humanize", args.humanize)
    base = groove_baselines(ds.velocities[tr].astype(np.float64), ds.timing[tr], ds.genre[tr], len(ds.genres),
                            ds.velocities[va].astype(np.float64), ds.timing[va], ds.genre[va], BPM)
    vel = ds.velocities[va].astype(np.float64)
    base["velocity_mae_flat_input"] = float(np.abs(vel - 100)[vel > 0].mean())
    res["humanize_baselines"] = base
    res["humanize"] = {}
    outputs = {}
    for t in sorted({0.0, groove.DEFAULT_TEMPERATURE}):
        figs, hv, ho = humanize_figures(h, ds, tr, va, t, args.seed)
        figs["midi_round_trip"] = hits_changed_through_midi(h, ds, va, t, args.seed)
        res["humanize"][str(t)] = figs
        outputs[t] = ho

    # --- drumify -------------------------------------------------------------------------------
    d = groove.load("drumify", args.drumify)
    res["drumify"] = {str(t): drumify_figures(d, ds, va, t, args.seed)
                      for t in sorted({0.0, groove.DEFAULT_TEMPERATURE})}

    # --- plots and files -----------------------------------------------------------------------
    hit = ds.velocities[va] > 0
    voice = np.nonzero(hit)[2]
    series = {f"humanised T={t:g}": (ho[hit], voice) for t, ho in outputs.items()}
    out.mkdir(parents=True, exist_ok=True)
    timing_histograms((ds.timing[va][hit], voice), series, out / "timing_histograms.png", force=args.force)
    (out / "groove_metrics.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
