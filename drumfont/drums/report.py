"""`drumfont report vae`: posterior-collapse and quality diagnostics of a drum VAE.

`compute_metrics` measures (no files); `report` also draws the figures and writes metrics.json.
The style classifier (trained apart, never used in VAE training) judges genre agreement and
transfer success; its own validation accuracy is reported beside them as their ceiling.
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
from drumfont.drums import plots as plots
from drumfont.drums import rules
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.drums.model import DrumModel
from drumfont.drums.nets import StyleClassifierConfig, StyleNet
from drumfont.errors import DrumfontError
from drumfont.nn import preset as presets
from drumfont.paths import preset_path
from drumfont.score.pattern import VOICES, batch_validity

CLASSIFIER_NAME = "style_classifier.safetensors"
# Shipped judges by name: trained on real validation-split-free Groove MIDI bars, or on the rules.
CLASSIFIERS = {"real": CLASSIFIER_NAME, "rules": "style_classifier_rules.safetensors"}
MIN_BARS = 4  # t-SNE needs more points than its smallest perplexity (2)


class GenreJudge:
    """The evaluation-only style classifier, as a numpy function (drums/nets.py's StyleNet)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = preset_path(CLASSIFIERS[str(path or "real")]) if not path or str(path) in CLASSIFIERS else Path(path)
        blob = presets.load(path, "style_classifier")
        cfg = presets.make_config(StyleClassifierConfig, blob["config"].get("model"), f"{path}: config.model")
        self.model = presets.build(path, lambda: StyleNet(cfg, blob["state_dict"]))
        self.genres: list[str] = list(blob["extras"]["genres"])

    def predict(self, hits: np.ndarray) -> np.ndarray:
        """Genre index (in self.genres) of each (16, 9) grid."""
        x = np.asarray(hits, np.float32)
        return self.model(x).argmax(-1) if len(x) else np.zeros(0, np.int64)


def load_dataset(path: str | os.PathLike | None) -> DrumDataset:
    """A dataset file, or the built-in corpus."""
    if path:
        return DrumDataset.load(path)

    return rules.build_corpus(seed=0)


def compute_metrics(model: DrumModel, data: DrumDataset, judge: GenreJudge | None, samples: int = 200,
                    temperature: float = 1.0, seed: int = 0, full: bool = True) -> tuple[dict, dict]:
    """(metrics, arrays): the numbers of the report and the arrays its figures need.
    `full=False` skips the costlier pattern-set statistics (overlapping area), for ablations."""
    rng = np.random.default_rng(seed)
    train, val = data.subset(TRAIN), data.subset(VAL)
    if len(val) == 0:
        val = data
    m: dict = {"preset": model.source, "n_bars": len(data), "n_val": len(val), "temperature": temperature}
    arrays: dict = {}

    # --- collapse: KL per dimension, active units, mutual information ------------------------
    lat_val = model.latents(val.hits, val.velocities, val.timing)
    kl_high, kl_low = lat_val["kl_high"].mean(0), lat_val["kl_low"].mean(0)
    m["kl_high_per_dim"], m["kl_low_per_dim"] = kl_high.tolist(), kl_low.tolist()
    m["collapsed_dims_high"] = mv.collapsed_dims(kl_high)
    m["collapsed_dims_low"] = mv.collapsed_dims(kl_low)
    lat_all = model.latents(data.hits, data.velocities, data.timing)
    m["active_units_high"], var_h = mv.active_units(lat_all["mu_high"])
    m["active_units_low"], var_l = mv.active_units(lat_all["mu_low"])
    m["active_var_high"], m["active_var_low"] = var_h.tolist(), var_l.tolist()
    m["mi_high"] = mv.mutual_information(lat_val["mu_high"], lat_val["logvar_high"], rng)
    m["mi_low"] = mv.mutual_information(lat_val["mu_low"], lat_val["logvar_low"], rng)
    arrays.update(kl_high=kl_high, kl_low=kl_low, z_high=lat_all["mu_high"], z_low=lat_all["mu_low"])

    # --- reconstruction on validation bars -----------------------------------------------------
    hits, vel, off = model.decode_arrays(lat_val["mu_high"], lat_val["mu_low"])
    rec = mv.reconstruction_scores(val.hits, hits, val.velocities.astype(np.float64), vel * 127.0,
                                   val.timing, off)
    m.update(rec)
    # Beside it, the two baselines a groove model must beat (timing at 120 BPM, hit cells).
    base = train if len(train) else data
    m.update(mv.groove_baselines(base.velocities, base.timing, base.genre, len(data.genres),
                                 val.velocities, val.timing, val.genre))
    arrays["real_offsets"] = val.timing[val.velocities > 0]
    arrays["real_offset_voice"] = np.nonzero(val.velocities > 0)[2]

    labelled = data.labelled and len(np.unique(data.genre)) > 1
    m["labelled"] = bool(labelled)
    m["classifier_val_acc"] = None
    genres = list(model.genres)
    judge_ok = judge is not None and labelled and all(g in judge.genres for g in genres)
    if judge_ok:
        vmask = np.isin(np.array(data.genres)[val.genre], judge.genres)
        want = np.array([judge.genres.index(data.genres[g]) for g in val.genre[vmask]])
        pred = judge.predict(val.hits[vmask])
        m["classifier_val_acc"] = float((pred == want).mean()) if len(want) else None
        # Per genre: the ceiling each genre's agreement of generated bars is judged against.
        m["classifier_val_acc_per_genre"] = {
            g: float((pred[want == judge.genres.index(g)] == judge.genres.index(g)).mean())
            for g in genres if (want == judge.genres.index(g)).any()}

    # --- latent structure by genre ---------------------------------------------------------------
    if labelled:
        g_all = data.genre
        m["probe_acc_high"] = mv.linear_probe(lat_all["mu_high"], g_all, seed=seed)
        m["probe_acc_low"] = mv.linear_probe(lat_all["mu_low"], g_all, seed=seed)
        m["silhouette_high"] = mv.silhouette(lat_all["mu_high"], g_all)
        m["silhouette_low"] = mv.silhouette(lat_all["mu_low"], g_all)
        vh, vl = mv.variance_split(lat_all["mu_high"], g_all), mv.variance_split(lat_all["mu_low"], g_all)
        m["intra_var_high"], m["inter_var_high"] = vh["intra"], vh["inter"]
        m["intra_var_low"], m["inter_var_low"] = vl["intra"], vl["inter"]
        m["disentanglement_score"] = vh["ratio"] - vl["ratio"]
        m["disentanglement_formula"] = ("D = R_high - R_low, R = inter/(inter+intra); inter = trace of the "
                                        "covariance of genre centroids, intra = mean trace of within-genre covariance")
        arrays["genre"] = g_all

    # --- generation per genre ----------------------------------------------------------------------
    train_hits = train.hits if len(train) else data.hits
    per_genre: dict = {}
    all_gen, gen_offsets, gen_offset_voice = [], [], []
    for i, g in enumerate(genres or [None]):
        gh, _, go = model.sample_arrays(g, samples, temperature, seed=seed + i)
        all_gen.append(gh)
        gen_offsets.append(go[gh])
        gen_offset_voice.append(np.nonzero(gh)[2])
        entry = {"validity": float(batch_validity(gh).mean()),
                 "fully_valid": float((batch_validity(gh) == 1.0).mean()),
                 **mv.novelty(gh, train_hits),
                 # share of bars that play each voice: every voice of the grid must stay reachable
                 "voice_share": dict(zip(VOICES, gh.any(1).mean(0).round(4).tolist()))}
        if judge_ok and g is not None:
            entry["agreement"] = float((judge.predict(gh) == judge.genres.index(g)).mean())
        real = data.hits
        if labelled and g is not None:  # data may lack some of the model's genres
            real = data.hits[np.isin(data.genre, [j for j, name in enumerate(data.genres) if name == g])]
        if full and g is not None and len(real) >= 2:  # intra-set distances need two real bars
            rf, gf = mv.pattern_features(real), mv.pattern_features(gh)
            entry["overlap_area"] = {k: mv.overlapping_area(rf[k], gf[k]) for k in rf}
            entry["overlap_area_mean"] = float(np.mean(list(entry["overlap_area"].values())))
        per_genre[g or "prior"] = entry
    arrays["generated"] = dict(zip(genres or ["prior"], all_gen))
    arrays["gen_offsets"] = np.concatenate(gen_offsets)
    arrays["gen_offset_voice"] = np.concatenate(gen_offset_voice)
    m["per_genre"] = per_genre
    gen = np.concatenate(all_gen)
    m["gen_voice_share"] = dict(zip(VOICES, gen.any(1).mean(0).round(4).tolist()))
    m["real_voice_share"] = dict(zip(VOICES, data.hits.any(1).mean(0).round(4).tolist()))
    m["gen_validity"] = float(batch_validity(gen).mean())
    m["gen_fully_valid"] = float((batch_validity(gen) == 1.0).mean())
    nov = mv.novelty(gen, train_hits)
    m["gen_novelty"], m["gen_nn_hamming"] = nov["novelty"], nov["nn_hamming_mean"]
    if judge_ok:
        m["gen_genre_agreement_min"] = min(e["agreement"] for e in per_genre.values())
        m["gen_genre_agreement_mean"] = float(np.mean([e["agreement"] for e in per_genre.values()]))
    overlaps = [e["overlap_area_mean"] for e in per_genre.values() if "overlap_area_mean" in e]
    if full and overlaps:
        m["gen_overlap_area_mean"] = float(np.mean(overlaps))

    # --- style transfer: every validation bar to every other genre ----------------------------
    if labelled and judge_ok:
        succ, raw, recall, jacc, n = 0.0, 0.0, 0.0, 0.0, 0
        for g in genres:
            other = np.array(data.genres)[val.genre] != g
            src, src_vel, src_off = val.hits[other], val.velocities[other], val.timing[other]
            if not len(src):
                continue
            out, _, _ = model.transfer_arrays(src, g, src_vel, src_off)
            succ += float((judge.predict(out) == judge.genres.index(g)).sum())
            # The naive alternative, for comparison: keep the raw z_low (not its variation).
            _, zl = model.encode_arrays(src, src_vel, src_off)
            naive, _, _ = model.decode_arrays(np.repeat(model.genre_style(g)[None], len(src), 0), zl)
            raw += float((judge.predict(naive) == judge.genres.index(g)).sum())
            rp = mv.rhythm_preservation(src, out)
            recall += rp["recall"] * len(src)
            jacc += rp["jaccard"] * len(src)
            n += len(src)
        m["transfer_success"] = succ / max(1, n)
        m["transfer_success_raw_z_low"] = raw / max(1, n)
        m["rhythm_preservation"] = recall / max(1, n)
        m["rhythm_preservation_jaccard"] = jacc / max(1, n)
    return m, arrays


TARGETS = {  # key: (comparison, threshold) from the issue, for the summary table
    "collapsed_dims_high": ("<=", 0), "active_units_low": (">=", 10), "probe_acc_high": (">=", 0.95),
    "silhouette_high": (">=", 0.5), "gen_genre_agreement_min": (">=", 0.9), "gen_validity": (">=", 0.99),
    "gen_novelty": (">=", 0.5), "transfer_success": (">=", 0.9), "hit_f1": (">=", 0.85),
}


def summary_table(m: dict) -> str:
    """The headline numbers, one per line, with the issue's target where there is one."""
    keys = ["active_units_high", "active_units_low", "collapsed_dims_high", "collapsed_dims_low", "mi_high",
            "mi_low", "probe_acc_high", "probe_acc_low", "silhouette_high", "disentanglement_score", "hit_f1",
            "cell_accuracy", "zeros_baseline_accuracy", "velocity_mae", "velocity_mae_mean_groove",
            "timing_mae_ms", "timing_mae_ms_quantised", "timing_mae_ms_mean_groove", "gen_genre_agreement_min",
            "gen_validity", "gen_novelty", "gen_nn_hamming", "gen_overlap_area_mean", "transfer_success",
            "rhythm_preservation", "classifier_val_acc"]
    lines = [f"{'metric':28s} {'value':>9s}  target"]
    for k in keys:
        v = m.get(k)
        if v is None:
            continue
        t = TARGETS.get(k)
        mark = ""
        if t:
            ok = v <= t[1] if t[0] == "<=" else v >= t[1]
            mark = f"{t[0]} {t[1]}  {'ok' if ok else 'MISSED'}"
        lines.append(f"{k:28s} {v:9.3f}  {mark}" if isinstance(v, float) else f"{k:28s} {v:9d}  {mark}")
    return "\n".join(lines)


def report(preset: str | None, data: str | None, classifier: str | None, out: Path, samples: int = 1000,
           temperature: float = 1.0, seed: int = 0, force: bool = False,
           log: Callable[[str], None] = print) -> dict:
    """Measure, draw the figures into `out`, write out/metrics.json; return the metrics."""
    if samples < 1:
        raise DrumfontError(f"--samples must be at least 1, got {samples}")
    out = Path(out)
    if os.path.exists(out) and not os.path.isdir(out):  # (os.path: a name too long is no traceback)
        raise DrumfontError(f"{out} is a file, not a folder")
    metrics_path = check_writable(out / "metrics.json", force)
    model = drums.load(preset)
    dataset = load_dataset(data)
    if len(dataset) < MIN_BARS:
        raise DrumfontError(f"{data}: {len(dataset)} bar(s); a report needs at least {MIN_BARS} "
                            "(the latent maps and distance statistics compare bars with each other)")
    judge = None
    if classifier is None and preset == "rules":
        classifier = "rules"  # the rules model is judged by the classifier trained on the rules
    try:
        judge = GenreJudge(classifier)
    except DrumfontError as exc:
        if classifier:
            raise
        log(f"note: no style classifier ({exc}); genre agreement and transfer are skipped")
    m, arrays = compute_metrics(model, dataset, judge, samples, temperature, seed)
    out.mkdir(parents=True, exist_ok=True)
    figures = plots.draw_all(model, dataset, arrays, out, seed=seed, force=force)
    m["figures"] = [p.name for p in figures]
    write_atomic(metrics_path, (json.dumps(m, indent=2) + "\n").encode(), force=force)
    log(summary_table(m))
    log(f"wrote {metrics_path} and {len(figures)} figures")
    return m
