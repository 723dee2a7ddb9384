"""Every trainer under torchrun with 2 gloo processes on CPU: it finishes and writes a file that
drumfont loads; 1 and 2 processes give the same loss curve for the same global batch and seed;
a 2-process run killed after a checkpoint resumes and ends where an unbroken run ends.

Tolerances: the style classifier without dropout has no per-rank randomness and no batch
statistics, so DDP's gradient mean over two equal shards is the single process's batch mean and
the curves agree to float rounding (1e-4 relative) when the global batch divides the training set. The VAE draws its reparameterisation noise
per rank (independent noise is what one wants), applies free bits to each shard's mean KL and
averages the velocity error over each shard's hits, so its curves agree statistically: each
epoch's loss within 5% on this tiny set (measured for seeds 3, 4, 5: at most 1.3% apart). With the
shipped loss defaults (KL weight 0.2, genre weight 5) the tiny set sits on the edge of posterior
collapse: a run escapes it or not depending on its noise, with one process as with two (seed 3:
1 and 2 processes 6% apart at epoch 6, seeds 3 and 4 of one process 0.1% apart, seed 5 escaping
with either), so the test pins the earlier settings. A resumed run replays every epoch exactly,
so it matches the unbroken run to float rounding.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmd(module: str, nproc: int) -> list[str]:
    if nproc == 1:
        return [sys.executable, "-m", module]
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
            "--master_port", str(_free_port()), "-m", module]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def _run(module: str, flags: list[str], nproc: int = 2) -> subprocess.CompletedProcess:
    res = subprocess.run(_cmd(module, nproc) + flags, cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=TIMEOUT)
    errors = [line for line in res.stderr.splitlines() if "error" in line.lower()][:5]
    assert res.returncode == 0, "\n".join(errors) or res.stderr[-3000:]
    return res


def _descendants(pid: int) -> list[int]:
    """Every process below pid (from /proc), children first."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier]
        out += kids
        frontier = kids
    return out


def _history(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """A tiny labelled drum set (120 bars of five genres, 100 for training) and a tiny letter set
    (4 + 2 per letter)."""
    from drumfont.drums.dataset import DrumDataset, stratified_split
    from drumfont.letters.data import build_fonts

    folder = tmp_path_factory.mktemp("dist-data")
    rng = np.random.default_rng(0)
    genre = (np.arange(120) % 5).astype(np.int16)
    # Each genre its own density, so the classifier has something to learn.
    p = 0.08 + 0.05 * genre[:, None, None]
    vel = np.where(rng.random((120, 16, 9)) < p, rng.integers(40, 128, (120, 16, 9)), 0).astype(np.uint8)
    DrumDataset(vel, genre, stratified_split(genre, 1 / 6, rng)).save(folder / "drums.npz")
    build_fonts(seed=0, train_per_letter=4, val_per_letter=2).save(folder / "fonts.npz")
    return {"drums": folder / "drums.npz", "fonts": folder / "fonts.npz"}


# --- the drum VAE ----------------------------------------------------------------------------

def _vae_flags(data: dict, out: Path, epochs: int = 6) -> list[str]:
    # The loss settings are pinned rather than left to the defaults: with the shipped ones (KL
    # weight 0.2, genre weight 5) this tiny set sits on the edge of posterior collapse, and one
    # seed's run may escape it or not whatever the number of processes (see the module docstring).
    return ["--data", str(data["drums"]), "--out", str(out), "--epochs", str(epochs), "--val-every", "1",
            "--batch-size", "4", "--seed", "3", "--no-progress", "--device", "cpu",
            "--beta-max", "1.0", "--temp-start", "1.0", "--genre-weight", "1.0", "--kl-schedule", "cyclical",
            "--model-z-high", "4", "--model-z-low", "8", "--model-channels", "16", "--model-hidden", "32"]


@pytest.fixture(scope="module")
def vae_runs(data, tmp_path_factory) -> dict[int, Path]:
    """The same tiny VAE config trained with 1 and with 2 processes."""
    folder = tmp_path_factory.mktemp("vae")
    for n in (1, 2):
        _run("drumfont.trainers.train_vae", _vae_flags(data, folder / f"vae{n}.pt"), nproc=n)
    return {n: folder / f"vae{n}.pt" for n in (1, 2)}


def test_vae_two_processes_write_a_model_drumfont_loads(vae_runs):
    from drumfont import drums

    model = drums.load(vae_runs[2])
    bars = model.sample("rock", 3, seed=0)
    assert len(bars) == 3 and model.genres == ("rock", "jazz", "hiphop", "electronic", "latin")
    records = _history(vae_runs[2].with_suffix(".jsonl"))
    assert [r["epoch"] for r in records] == list(range(6))  # rank 0 alone writes the history


def test_vae_one_and_two_processes_agree(vae_runs):
    one = [r["loss"] for r in _history(vae_runs[1].with_suffix(".jsonl"))]
    two = [r["loss"] for r in _history(vae_runs[2].with_suffix(".jsonl"))]
    assert len(one) == len(two) == 6
    print("1 vs 2 processes:", one, two)
    assert np.allclose(one, two, rtol=0.05), (one, two)
    assert one[-1] < one[0] and two[-1] < two[0]  # both learn


def test_vae_killed_two_process_run_resumes_to_the_same_end(vae_runs, data, tmp_path):
    out = tmp_path / "vae.pt"
    epochs = 6
    proc = subprocess.Popen(_cmd("drumfont.trainers.train_vae", 2) + _vae_flags(data, out, epochs), cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # As soon as the first checkpoint appears, freeze the launcher and its workers (SIGSTOP), then
    # kill them all (SIGKILL), like a lost machine: nothing gets to finish or clean up.
    deadline = time.monotonic() + TIMEOUT
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    family = _descendants(proc.pid) + [proc.pid]  # torchrun may start its workers in their own sessions
    for pid in family:
        os.kill(pid, signal.SIGSTOP)
    for pid in _descendants(proc.pid) + family:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    from drumfont.checkpoint import load_checkpoint

    blob = load_checkpoint(out, "vae")
    assert not blob["extras"]["complete"] and 1 <= blob["extras"]["epoch"] < epochs
    _run("drumfont.trainers.train_vae", _vae_flags(data, out, epochs) + ["--resume"])
    resumed = _history(out.with_suffix(".jsonl"))
    unbroken = _history(vae_runs[2].with_suffix(".jsonl"))
    assert [r["epoch"] for r in resumed] == list(range(epochs))
    assert np.allclose([r["loss"] for r in resumed], [r["loss"] for r in unbroken], rtol=1e-4)
    assert load_checkpoint(out, "vae")["extras"]["complete"]


# --- the style classifier --------------------------------------------------------------------

def test_style_classifier_one_and_two_processes_agree_exactly(data, tmp_path):
    from drumfont.drums.report import GenreJudge

    # 100 training bars in global batches of 20: no short last batch (one would be padded by
    # wrapping on 2 ranks, as DistributedSampler does, and differ from the single process's).
    flags = ["--data", str(data["drums"]), "--epochs", "4", "--batch-size", "20", "--seed", "1",
             "--no-progress", "--device", "cpu", "--model-dropout", "0"]
    for n in (1, 2):
        _run("drumfont.trainers.train_style_classifier", flags + ["--out", str(tmp_path / f"s{n}.pt")], nproc=n)
    one, two = (_history(tmp_path / f"s{n}.jsonl") for n in (1, 2))
    assert np.allclose([r["loss"] for r in one], [r["loss"] for r in two], rtol=1e-4, atol=1e-6)
    judge = GenreJudge(tmp_path / "s2.pt")
    assert judge.genres == ["rock", "jazz", "hiphop", "electronic", "latin"]


# --- the letter GAN and the letter classifier ------------------------------------------------

def test_gan_two_processes_with_batch_extras_write_a_generator(data, tmp_path):
    from drumfont.letters import load_generator

    run = tmp_path / "gan"
    # Minibatch discrimination, minibatch stddev, an unrolled D and R1 together: the extras that
    # read a whole batch (see train_gan's docstring for what each does across ranks).
    _run("drumfont.trainers.train_gan", ["--run-dir", str(run), "--data", str(data["fonts"]), "--epochs", "2",
                                "--batch-size", "16", "--eval-every", "2", "--eval-samples", "52",
                                "--no-progress", "--device", "cpu", "--mbd", "--mbstd", "--unrolled", "1",
                                "--r1", "1.0", "--g-width", "8", "--d-width", "8"])
    g, blob = load_generator(run / "generator.pt")
    assert blob["extras"]["epochs"] == 2
    records = _history(run / "history.jsonl")
    assert [r["epoch"] for r in records if r["type"] == "epoch"] == [1, 2]
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in records if r["type"] == "step")


def test_letter_classifier_two_processes_write_a_classifier(data, tmp_path):
    from drumfont.letters import load_classifier

    out = tmp_path / "letters.pt"
    _run("drumfont.trainers.train_letter_classifier", ["--data", str(data["fonts"]), "--out", str(out), "--epochs", "2",
                                              "--batch-size", "32", "--device", "cpu", "--model_width", "8",
                                              "--model_features", "32"])
    clf, blob = load_classifier(out)
    assert 0.0 <= blob["metrics"]["val_acc"] <= 1.0


def test_a_refusal_on_rank_0_stops_every_rank_with_one_message(data, tmp_path):
    # rank 0 finds the output exists; the other rank must not wait for it in a collective
    out = tmp_path / "s.pt"
    out.write_bytes(b"the user's file")
    res = subprocess.run(_cmd("drumfont.trainers.train_style_classifier", 2)
                         + ["--data", str(data["drums"]), "--out", str(out), "--epochs", "1", "--device", "cpu"],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode != 0
    assert "drumfont: error:" in res.stderr and "exists" in res.stderr  # the same one line from each rank
    assert out.read_bytes() == b"the user's file"
