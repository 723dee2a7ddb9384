"""`drumfont report phrases`: how a phrase model's phrases compare with real drummers' on the
validation split (by file), beside two baselines: independent 1-bar samples of the bar model
(today's `export -n 4`) and bar 1 repeated (a loop).

`compute_metrics` measures (no files); `report` also draws the figures and writes metrics.json.
Every distance is the Jaccard distance of two bars' hit sets (1 - shared hits / hits in either).
A *departure* is a bar (from the phrase's second on) whose distance to the nearest bar before it
in the phrase passes DEPARTURE. Timing errors are in ms at 120 BPM on hit cells. Genre agreement
is judged by the style classifier (trained apart, never used in training), its own accuracy on
real validation bars beside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from drumfont import drums
from drumfont.atomic import check_writable, write_atomic
from drumfont.drums import metrics as mv
from drumfont.drums import phrase_data as pdm
from drumfont.drums import phrase_engine, plots
from drumfont.drums.dataset import VAL, DrumDataset
from drumfont.drums.report import GenreJudge
from drumfont.errors import DrumfontError
from drumfont.score.pattern import CRASH

DEPARTURE = 0.5             # distance to every earlier bar of the phrase above which a bar departs
FEW_HITS = 8                # "a bar with fewer than 8 hits": the fill-like bars a beat should not hold
MIN_WINDOWS = 5             # a genre's shape is compared where the validation split has this many windows
MIN_BARS = 10               # ... and its bar features where it has this many bars
FEATURES = plots.PHRASE_FEATURES  # the GrooveToolbox-style features of `bar_features`
MODELS = plots.PHRASE_MODELS      # the phrase model and the two baselines
TARGETS = {  # the targets: (key in the summary, comparison, threshold)
    "shape_max_error": ("<=", 0.1), "fill_lift": (">=", 0.08), "continue_distance_error": ("<=", 0.15),
    "continue_offset_std_ratio": ("in", (0.7, 1.3)), "few_hits_error_max": ("<=", 0.02),
    "hit_f1": (">=", 0.85), "agreement_min": (">=", 0.9),
}


# --- per-bar features ----------------------------------------------------------------------------

def bar_features(hits: np.ndarray, velocities: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """GrooveToolbox-style features of each bar (N, 16, 9) (velocities in MIDI units, offsets in
    sixteenths): hits per bar, syncopation (drumfont.metrics.vae), the spread (std) of the hits'
    offsets, swingness (how much later the off-sixteenths sit than the on-sixteenths: mean offset
    of hits on odd steps minus that on even steps, 0 where either is empty), mean velocity of the
    hits and the number of voices played."""
    h = np.asarray(hits, bool)
    v = np.asarray(velocities, np.float64)
    o = np.asarray(offsets, np.float64)
    n = h.sum((1, 2))
    safe = np.maximum(n, 1)
    mean_off = (o * h).sum((1, 2)) / safe
    var_off = ((o - mean_off[:, None, None]) ** 2 * h).sum((1, 2)) / safe
    odd, even = h[:, 1::2], h[:, 0::2]
    n_odd, n_even = odd.sum((1, 2)), even.sum((1, 2))
    late_odd = (o[:, 1::2] * odd).sum((1, 2)) / np.maximum(n_odd, 1)
    late_even = (o[:, 0::2] * even).sum((1, 2)) / np.maximum(n_even, 1)
    return {"density": n.astype(np.float64), "syncopation": mv.syncopation(h),
            "offset_std": np.sqrt(var_off), "swingness": np.where((n_odd > 0) & (n_even > 0), late_odd - late_even, 0.0),
            "velocity_mean": (v * h).sum((1, 2)) / safe, "voices": h.any(1).sum(1).astype(np.float64)}


def shape(hits: np.ndarray) -> np.ndarray:
    """Mean distance of each bar of phrases (P, L, 16, 9) to their first bar: (L,)."""
    h = np.asarray(hits, bool)
    return pdm.jaccard_distance(h[:, :1], h).mean(0)


def departures(hits: np.ndarray) -> np.ndarray:
    """(P, L) bool: bars (from the second) farther than DEPARTURE from every earlier bar."""
    h = np.asarray(hits, bool)
    out = np.zeros(h.shape[:2], bool)
    for i in range(1, h.shape[1]):
        out[:, i] = pdm.jaccard_distance(h[:, i:i + 1], h[:, :i]).min(1) > DEPARTURE
    return out


def last_share(dep: np.ndarray) -> float:
    """Share of a phrase set's departures that fall on the last bar (NaN without any)."""
    total = dep.sum()
    return float(dep[:, -1].sum() / total) if total else float("nan")


def fill_lift(profile: np.ndarray) -> float:
    """How much farther the last bar is from bar 1 than bars 2..N-1 are, on average."""
    return float(profile[-1] - profile[1:-1].mean()) if len(profile) > 2 else float("nan")


# --- the measurement -------------------------------------------------------------------------------

def _val_windows(data: DrumDataset) -> dict[int, pdm.Windows]:
    w = pdm.windows_of(data)
    out = {n: x.take(x.split == VAL) for n, x in w.items()}
    if not any(len(x) for n, x in out.items() if n > 1):  # no validation split: measure on all there is
        out = w
    return out


def _arrays(data: DrumDataset, rows: np.ndarray):
    return data.velocities[rows] > 0, data.velocities[rows].astype(np.float64), data.timing[rows]


def compute_metrics(model, bar_model, data: DrumDataset, judge=None, samples: int = 200,
                    temperature: float = 1.0, seed: int = 0) -> tuple[dict, dict]:
    """(metrics, arrays): the report's numbers and what its figures draw. `model` is a
    PhraseModel, `bar_model` the DrumModel of the baselines, `judge` a drums.report.GenreJudge."""
    if samples < 1:
        raise DrumfontError(f"--samples must be at least 1, got {samples}")
    windows = _val_windows(data)
    if not any(len(w) for n, w in windows.items() if n > 1):
        raise DrumfontError("the dataset has no two consecutive bars of one beat file; a phrase report needs "
                            "performances (e.g. `drumfont data gmd`)")
    names = list(data.genres)
    genres = [g for g in model.genres if g in names and g in bar_model.genres]
    m: dict = {"preset": model.source, "bar_preset": bar_model.source, "temperature": temperature,
               "samples": samples, "departure": DEPARTURE, "windows": {str(n): len(w) for n, w in windows.items()}}
    arrays: dict = {"genres": genres}

    # --- reconstruction, per bar ----------------------------------------------------------------
    rec: dict = {}
    for n, w in sorted(windows.items()):
        if not len(w):
            continue
        h, v, o = _arrays(data, w.rows)
        rh, rv, ro = model.reconstruct_arrays(h, v, o, w.genre, w.fill)
        flat = (h.reshape(-1, 16, 9), v.reshape(-1, 16, 9), o.reshape(-1, 16, 9))
        entry = {"phrase": mv.reconstruction_scores(flat[0], rh.reshape(-1, 16, 9), flat[1],
                                                    rv.reshape(-1, 16, 9) * 127, flat[2], ro.reshape(-1, 16, 9))}
        zh, zl = bar_model.encode_arrays(*flat)
        bh, bv, bo = bar_model.decode_arrays(zh, zl)
        entry["one_bar"] = mv.reconstruction_scores(flat[0], bh, flat[1], bv * 127, flat[2], bo)
        if n > 1:  # bars 2..L played as bar 1 (bar 1 itself would score perfectly)
            rest = lambda a: a[:, 1:].reshape(-1, 16, 9)  # noqa: E731
            first = lambda a: np.repeat(a[:, :1], n - 1, 1).reshape(-1, 16, 9)  # noqa: E731
            entry["repeat"] = mv.reconstruction_scores(rest(h), first(h), rest(v), first(v), rest(o), first(o))
        entry["phrase_f1_by_bar"] = [mv.reconstruction_scores(h[:, i], rh[:, i])["hit_f1"] for i in range(n)]
        entry["one_bar_f1_by_bar"] = [mv.reconstruction_scores(h[:, i], bh.reshape(h.shape)[:, i])["hit_f1"]
                                      for i in range(n)]
        rec[str(n)] = entry
    m["reconstruction"] = rec
    if "4" in rec:
        m["hit_f1"] = rec["4"]["phrase"]["hit_f1"]

    # --- generated phrases per genre: shape, departures, features, agreement ----------------------
    real_bars = windows[1] if 1 in windows else None
    per_genre: dict = {}
    gen_store: dict = {}
    for i, g in enumerate(genres):
        gi = names.index(g)
        e: dict = {}
        s = seed + 1000 * i
        # 4- and 8-bar phrases: the model with and without a fill; the baselines
        for n in (4, 8):
            w = windows.get(n)
            real = w.take(w.genre == gi) if w is not None else None
            ph_end = model.sample_arrays(g, samples, n, "end", temperature, seed=s + n)
            ph_none = model.sample_arrays(g, samples, n, "none", temperature, seed=s + n + 1)
            one = bar_model.sample_arrays(g, samples * n, temperature, seed=s + n + 2)
            one = tuple(a.reshape(samples, n, 16, 9) for a in one)
            rep = tuple(np.repeat(a[:, :1], n, 1) for a in one)
            sh = {"phrase_end": shape(ph_end[0]), "phrase_none": shape(ph_none[0]), "one_bar": shape(one[0]),
                  "repeat": shape(rep[0])}
            dep = {"phrase_end": departures(ph_end[0]), "phrase_none": departures(ph_none[0]),
                   "one_bar": departures(one[0]), "repeat": departures(rep[0])}
            entry: dict = {"n_real": 0 if real is None else len(real)}
            if real is not None and len(real) >= MIN_WINDOWS:
                rh = data.velocities[real.rows] > 0
                sh["real"] = shape(rh)
                sh["real_fill_last"] = shape(rh[real.fill[:, -1]]) if real.fill[:, -1].any() else None
                sh["real_no_fill"] = shape(rh[~real.fill.any(1)]) if (~real.fill.any(1)).any() else None
                dep["real"] = departures(rh)
                inner = slice(1, n - 1)
                entry["shape_error_end"] = float(np.abs(sh["phrase_end"][inner] - sh["real"][inner]).max())
                entry["shape_error_none"] = float(np.abs(sh["phrase_none"][inner] - sh["real"][inner]).max())
                entry["shape_error_one_bar"] = float(np.abs(sh["one_bar"][inner] - sh["real"][inner]).max())
                entry["shape_error_repeat"] = float(np.abs(sh["repeat"][inner] - sh["real"][inner]).max())
            entry["shape"] = {k: (None if v is None else np.round(v, 4).tolist()) for k, v in sh.items()}
            entry["fill_lift"] = {k: fill_lift(v) for k, v in sh.items() if v is not None}
            entry["departures_on_last_bar"] = {k: last_share(v) for k, v in dep.items()}
            entry["departures_by_bar"] = {k: v.mean(0).round(4).tolist() for k, v in dep.items()}
            e[str(n)] = entry
            if n == 4:
                gen_store[g] = {"phrase": ph_end, "phrase_none": ph_none, "one_bar": one, "repeat": rep}

        # crash on the downbeat after a fill: the model's own (a fill in bar 4, then the next phrase)
        fl = np.zeros((samples, 5), bool)
        fl[:, 3] = True
        ch, _, _ = model.sample_flagged(g, fl, temperature, seed=s + 7)
        e["crash_after_fill_model"] = pdm.crash_after(ch[:, 3], np.ones(samples, bool), ch[:, 4])
        one = gen_store[g]["one_bar"][0]
        e["crash_on_downbeat_one_bar"] = float(one[:, :, 0, CRASH].mean())

        # bar features against real validation bars of the genre
        gens = gen_store[g]
        if real_bars is not None:
            rb = real_bars.rows[real_bars.genre == gi].ravel()
            e["n_real_bars"] = int(len(rb))
            if len(rb) >= MIN_BARS:
                rf = bar_features(*_arrays(data, rb))
                oa: dict = {}
                for key, (hh, vv, oo) in (("phrase", gens["phrase"]), ("one_bar", gens["one_bar"]),
                                          ("repeat", gens["repeat"])):
                    gf = bar_features(hh.reshape(-1, 16, 9), vv.reshape(-1, 16, 9) * 127, oo.reshape(-1, 16, 9))
                    oa[key] = {f: mv.overlapping_area(rf[f], gf[f]) for f in FEATURES}
                    oa[key]["mean"] = float(np.mean([oa[key][f] for f in FEATURES]))
                e["overlap_area"] = oa
                few_real = float((rf["density"] < FEW_HITS).mean())
                none_h = gens["phrase_none"][0].reshape(-1, 16, 9)
                e["few_hits"] = {"real_beat_bars": few_real,
                                 "phrase_none": float((none_h.sum((1, 2)) < FEW_HITS).mean()),
                                 "phrase_end_bars_1_to_3": float((gens["phrase"][0][:, :3].sum((2, 3)) < FEW_HITS).mean()),
                                 "one_bar": float((gens["one_bar"][0].sum((2, 3)) < FEW_HITS).mean())}
                e["few_hits_error"] = abs(e["few_hits"]["phrase_none"] - few_real)
                e["few_hits_error_one_bar"] = abs(e["few_hits"]["one_bar"] - few_real)
        if judge is not None and g in judge.genres:
            want = judge.genres.index(g)
            agree = lambda hh: float((judge.predict(hh.reshape(-1, 16, 9)) == want).mean())  # noqa: E731
            e["agreement"] = {"phrase": agree(gens["phrase"][0]), "phrase_none": agree(gens["phrase_none"][0]),
                              "one_bar": agree(gens["one_bar"][0])}
            if real_bars is not None:
                rb = real_bars.rows[real_bars.genre == gi].ravel()
                if len(rb):
                    e["agreement"]["real_validation_bars"] = agree(data.velocities[rb] > 0)
        per_genre[g] = e
    m["per_genre"] = per_genre
    arrays["generated"] = gen_store

    # --- real crash after fill, over every validation run -------------------------------------------
    fills, nxt_crash = [], []
    for run in pdm.runs(data.sources.file_index, data.sources.bar, (~np.asarray(data.fill, bool)) if data.fill is not None
                        else np.ones(len(data), bool)):
        if len(run) < 2 or data.split[run[0]] != VAL:
            continue
        h = data.velocities[run] > 0
        f = pdm.detect_fills(h, np.zeros(len(run)), np.arange(len(run)))
        fills.append(f[:-1])
        nxt_crash.append(h[1:, 0, CRASH] | h[:-1, 15, CRASH])
    if fills:
        f, c = np.concatenate(fills), np.concatenate(nxt_crash)
        m["crash_after_fill_real"] = float(c[f].mean()) if f.any() else None
        m["crash_after_other_bars_real"] = float(c[~f].mean()) if (~f).any() else None

    # --- song mode's crash after every fill, measured on a song --------------------------------------
    if genres:
        song = model.song(genres[0], "a:4,b:4,a:4,b:4,c:2", temperature, seed=seed)
        after = [s.patterns[0].hits[0, CRASH] for s in song[1:]]
        m["song_crash_after_fill"] = float(np.mean(after))

    # --- continue: the drummer's own next 4 bars vs the model's -----------------------------------
    m["continue"], arrays["continue"] = _continue(model, bar_model, data, windows.get(8), genres, temperature, seed)

    m["summary"] = summary(m)
    return m, arrays


def _continue(model, bar_model, data, w8, genres, temperature, seed) -> tuple[dict, dict]:
    """Input: bars 1-4 of each validation 8-bar window; the drummer's own bars 5-8 against the
    model's four (genre given), independent 1-bar samples and the input's bar 1 repeated."""
    names = list(data.genres)
    if w8 is None:
        return {}, {}
    keep = np.isin(w8.genre, [names.index(g) for g in genres])
    w = w8.take(keep)
    if not len(w):
        return {}, {}
    h, v, o = _arrays(data, w.rows)
    inp, nxt = (h[:, :4], v[:, :4], o[:, :4]), (h[:, 4:], v[:, 4:], o[:, 4:])
    cont = [np.zeros((len(w), 4, 16, 9), bool), np.zeros((len(w), 4, 16, 9)), np.zeros((len(w), 4, 16, 9))]
    one = [np.zeros((len(w), 4, 16, 9), bool), np.zeros((len(w), 4, 16, 9)), np.zeros((len(w), 4, 16, 9))]
    for gi in np.unique(w.genre):
        sel = np.flatnonzero(w.genre == gi)
        ch, cv, co = model.continue_arrays(inp[0][sel], inp[1][sel], inp[2][sel], 4, names[gi], temperature,
                                           seed=seed + int(gi))
        cont[0][sel], cont[1][sel], cont[2][sel] = ch, cv * 127, co
        oh, ov, oo = bar_model.sample_arrays(names[gi], len(sel) * 4, temperature, seed=seed + 100 + int(gi))
        one[0][sel], one[1][sel], one[2][sel] = (oh.reshape(-1, 4, 16, 9), ov.reshape(-1, 4, 16, 9) * 127,
                                                oo.reshape(-1, 4, 16, 9))
    rep = [np.repeat(a[:, :1], 4, 1) for a in inp]

    def to_input(bars):  # mean distance of each window's new bars to its input bars
        return pdm.jaccard_distance(bars[:, :, None], inp[0][:, None]).mean((1, 2))

    def spread(hh, oo):  # offset std of each window's hits
        out = np.full(len(hh), np.nan)
        for k in range(len(hh)):
            if hh[k].sum() > 1:
                out[k] = oo[k][hh[k]].std()
        return out

    real_d = to_input(nxt[0])
    in_std = spread(*inp[::2])
    res: dict = {"n_windows": int(len(w)), "real_distance_to_input": float(real_d.mean()),
                 "real_offset_std_ratio": float(np.nanmedian(spread(nxt[0], nxt[2]) / in_std))}
    arrays = {"real_distance": real_d}
    for key, (hh, vv, oo) in (("phrase", cont), ("one_bar", one), ("repeat", rep)):
        d = to_input(hh)
        ratio = spread(hh, oo) / in_std
        res[key] = {"distance_to_input": float(d.mean()), "distance_error": float(abs(d.mean() - real_d.mean())),
                    "distance_error_per_window": float(np.abs(d - real_d).mean()),
                    "offset_std_ratio": float(np.nanmedian(ratio)),
                    "velocity_mean_ratio": float(np.nanmedian(
                        bar_features(hh.reshape(-1, 16, 9), vv.reshape(-1, 16, 9), oo.reshape(-1, 16, 9))[
                            "velocity_mean"].reshape(len(hh), 4).mean(1)
                        / bar_features(inp[0].reshape(-1, 16, 9), inp[1].reshape(-1, 16, 9),
                                       inp[2].reshape(-1, 16, 9))["velocity_mean"].reshape(len(hh), 4).mean(1)))}
        arrays[key] = {"distance": d, "offset_std_ratio": ratio}
    return res, arrays


def summary(m: dict) -> dict:
    """The headline figure of each target, the worst genre where a target is per genre."""
    pg = m.get("per_genre", {})
    s: dict = {}
    s["hit_f1"] = m.get("hit_f1")
    errs = [e["4"]["shape_error_end"] for e in pg.values() if "shape_error_end" in e.get("4", {})]
    s["shape_max_error"] = max(errs) if errs else None
    lifts = [e["4"]["fill_lift"]["phrase_end"] for e in pg.values() if "4" in e]
    s["fill_lift"] = min(lifts) if lifts else None
    c = m.get("continue", {})
    s["continue_distance_error"] = c.get("phrase", {}).get("distance_error")
    s["continue_offset_std_ratio"] = c.get("phrase", {}).get("offset_std_ratio")
    few = [e["few_hits_error"] for e in pg.values() if "few_hits_error" in e]
    s["few_hits_error_max"] = max(few) if few else None
    agree = [e["agreement"]["phrase"] for e in pg.values() if "agreement" in e]
    s["agreement_min"] = min(agree) if agree else None
    return s


def summary_table(m: dict) -> str:
    """The targets, one per line, with hit or miss."""
    lines = [f"{'target':28s} {'value':>9s}  wanted"]
    for key, (op, want) in TARGETS.items():
        v = m["summary"].get(key)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            lines.append(f"{key:28s} {'—':>9s}  {op} {want}  not measurable on this data")
            continue
        ok = (want[0] <= v <= want[1]) if op == "in" else (v <= want if op == "<=" else v >= want)
        lines.append(f"{key:28s} {v:9.3f}  {op} {want}  {'hit' if ok else 'MISSED'}")
    return "\n".join(lines)


def report(preset: str | None, data: str, out: Path, samples: int = 200, temperature: float = 1.0,
           seed: int = 0, force: bool = False, bar_preset: str | None = None, classifier: str | None = None,
           log: Callable[[str], None] = print) -> dict:
    """Measure, draw the figures into `out`, write out/metrics.json; return the metrics."""
    out = Path(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise DrumfontError(f"{out} is a file, not a folder")
    metrics_path = check_writable(out / "metrics.json", force)
    model = phrase_engine.load(preset)
    bar_model = drums.load(bar_preset)
    dataset = DrumDataset.load(data)
    judge = None
    try:
        judge = GenreJudge(classifier)
    except DrumfontError as exc:
        if classifier:
            raise
        log(f"note: no style classifier ({exc}); genre agreement is skipped")
    m, arrays = compute_metrics(model, bar_model, dataset, judge, samples, temperature, seed)
    out.mkdir(parents=True, exist_ok=True)
    figures = plots.draw_phrases(m, arrays, out, force=force)
    m["figures"] = [p.name for p in figures]
    write_atomic(metrics_path, (json.dumps(m, indent=2, default=jsonable) + "\n").encode(), force=force)
    log(summary_table(m))
    log(f"wrote {metrics_path} and {len(figures)} figures")
    return m


def jsonable(x):
    """numpy scalars and arrays as plain JSON values (json.dumps' `default`)."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"cannot write {type(x).__name__} to JSON")
