"""Every shipped preset runs the same on numpy as in torch: the forward passes a user command calls
agree on 1,000 random inputs (latent codes, bars, tap lines, images) within 1e-5 (|a - b| <=
1e-5 (1 + |b|): float32 sums of a few thousand terms), and seeded sampling gives the same bars,
hit for hit, when the torch model is driven by the same numpy draws."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.drums import groove
from drumfont.drums import model as vae
from drumfont.drums.nets import cond_channels
from drumfont.drums.report import CLASSIFIERS, GenreJudge
from drumfont.letters import engine as letters
from drumfont.nn import preset as presets
from drumfont.paths import preset_path

torch = pytest.importorskip("torch")

from drumfont.checkpoint import build_model  # noqa: E402  (after the torch skip: it builds torch models)
from drumfont.drums.groove_model import GrooveModel  # noqa: E402
from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig, model_input  # noqa: E402
from drumfont.drums.nets import GrooveConfig, StyleClassifierConfig  # noqa: E402
from drumfont.drums.style_classifier import StyleClassifier  # noqa: E402
from drumfont.letters.classifier import LetterClassifier  # noqa: E402
from drumfont.letters.gan import Generator  # noqa: E402
from drumfont.letters.nets import ClassifierConfig, GanConfig  # noqa: E402

N = 1000
TOL = dict(rtol=1e-5, atol=1e-5)


def close(got, want) -> None:
    want = want.detach().numpy() if hasattr(want, "detach") else want
    np.testing.assert_allclose(np.asarray(got), want, **TOL)


def _blob(name: str, kind: str) -> dict:
    return presets.load(preset_path(name), kind)


# --- the drum VAE ------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=sorted(vae.SHIPPED.values()))
def vae_pair(request):
    blob = _blob(request.param, "vae")
    twin = build_model(blob, HierarchicalVAE, HVAEConfig, request.param, config_key="model")
    return vae.load(preset_path(request.param)), twin


def test_vae_forwards_agree(vae_pair):
    model, twin = vae_pair
    net, rng = model._model, np.random.default_rng(0)
    hits = rng.random((N, 16, 9)) < 0.25
    x = model_input(torch.tensor(hits, dtype=torch.float32), torch.rand(N, 16, 9), torch.rand(N, 16, 9) - 0.5)
    zh = rng.standard_normal((N, model.config.z_high)).astype(np.float32)
    zl = rng.standard_normal((N, model.config.z_low)).astype(np.float32)
    with torch.inference_mode():
        for got, want in zip(net.encode_low(x.numpy()), twin.encode_low(x)):
            close(got, want)
        for got, want in zip(net.encode_low(hits.astype(np.float32)), twin.encode_low(torch.tensor(hits).float())):
            close(got, want)
        for got, want in zip(net.encode_high(zl), twin.encode_high(torch.tensor(zl))):
            close(got, want)
        for got, want in zip(net.prior(zh), twin.prior(torch.tensor(zh))):
            close(got, want)
        for got, want in zip(net.decode(zh, zl), twin.decode(torch.tensor(zh), torch.tensor(zl))):
            close(got, want)


def _torch_sample(model: vae.DrumModel, twin, genre: str, n: int, temperature: float, seed: int):
    """DrumModel.sample_arrays on the torch model, from the same numpy draws in the same order."""
    rng = np.random.default_rng(seed)
    g = model._genre(genre)
    eps_h = torch.tensor(rng.standard_normal((n, model.config.z_high), dtype=np.float32))
    chol, mean = torch.tensor(model._chol[g]), torch.tensor(model._mean[g])
    z_high = mean + temperature * eps_h @ chol.T
    eps_l = torch.tensor(rng.standard_normal((n, model.config.z_low), dtype=np.float32))
    with torch.inference_mode():
        mu, logvar = twin.prior(z_high)
        logits, vel, off = twin.decode(z_high, mu + temperature * (0.5 * logvar).exp() * eps_l)
    return logits.numpy() > 0, vel.numpy(), off.numpy()


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_vae_sampling_gives_the_same_bars(vae_pair, temperature):
    model, twin = vae_pair
    for i, genre in enumerate(model.genres[:3]):
        hits, vel, off = model.sample_arrays(genre, N, temperature, seed=i)
        t_hits, t_vel, t_off = _torch_sample(model, twin, genre, N, temperature, seed=i)
        np.testing.assert_array_equal(hits, t_hits)
        close(vel, t_vel)
        if model.timed:
            close(off, t_off)
        again = model.sample_arrays(genre, N, temperature, seed=i)
        np.testing.assert_array_equal(again[0], hits)


# --- Groove and Drumify ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=sorted(groove.SHIPPED))
def groove_pair(request):
    task = request.param
    blob = _blob(groove.SHIPPED[task], task)
    return groove.load(task), build_model(blob, GrooveModel, GrooveConfig, task, config_key="model")


def _conditions(tool: groove.GrooveTool, rng) -> np.ndarray:
    c = rng.random((N, 16, cond_channels(tool._model.cfg))).astype(np.float32)
    if tool.task == "humanize":
        c[..., :9] = c[..., :9] < 0.3
    return c


def test_groove_forwards_agree(groove_pair):
    tool, twin = groove_pair
    rng = np.random.default_rng(1)
    cond, genre = _conditions(tool, rng), rng.integers(-1, len(tool.genres) + 1, N)
    z = rng.standard_normal((N, tool._model.cfg.z)).astype(np.float32)
    with torch.inference_mode():
        for got, want in zip(tool._model.decode(cond, genre, z),
                             twin.decode(torch.tensor(cond), torch.tensor(genre), torch.tensor(z))):
            close(got, want)
        if tool.task == "drumify":
            close(tool._model.marginal_logits(cond[:250], genre[:250]),
                  twin.marginal_logits(torch.tensor(cond[:250]), torch.tensor(genre[:250])))


def _torch_generate(twin, cond, genre, temperature, seed):
    """GrooveModel.generate with the numpy draws GrooveNet.generate makes, in its order."""
    rng = np.random.default_rng(seed)
    cfg = twin.cfg
    eps = torch.tensor(rng.standard_normal((len(cond), cfg.z), dtype=np.float32))
    c, g = torch.tensor(cond), torch.tensor(genre)
    with torch.inference_mode():
        logits, vel, off = twin.decode(c, g, temperature * eps)
        if temperature == 0 and cfg.task == "drumify" and cfg.hit_samples > 0:
            logits = twin.marginal_logits(c, g)
        if cfg.hit_thresholds:
            logits = logits - torch.tensor(cfg.hit_thresholds)
        if temperature > 0 and cfg.residual_off:
            noise = torch.tensor(rng.standard_normal((2,) + tuple(vel.shape), dtype=np.float32))
            vel = (vel + temperature * torch.tensor(cfg.residual_vel) * noise[0]).clamp(0.0, 1.0)
            off = (off + temperature * torch.tensor(cfg.residual_off) * noise[1]).clamp(-0.5, 0.499)
    return logits.numpy(), vel.numpy(), off.numpy()


@pytest.mark.parametrize("temperature", [1.0, 0.0])
def test_groove_sampling_gives_the_same_bars(groove_pair, temperature):
    tool, twin = groove_pair
    n = 250 if temperature == 0 else N  # at 0 drumify's marginal decodes 32 draws of every bar
    cond = _conditions(tool, np.random.default_rng(2))[:n]
    if tool.reads_tempo:  # `run` appends the tempo channel itself: log2(120 / 120) = 0 by default
        cond[..., -1] = 0.0
    logits, vel, off = tool.run(cond[..., : cond.shape[-1] - int(tool.reads_tempo)], 1, temperature, seed=7)
    t_logits, t_vel, t_off = _torch_generate(twin, cond, np.full(n, 1, np.int64), temperature, seed=7)
    np.testing.assert_array_equal(logits > 0, t_logits > 0)
    close(vel, t_vel)
    close(off, t_off)


# --- the judges and the letter GAN ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CLASSIFIERS.values()))
def test_style_classifier_agrees(name):
    blob = _blob(name, "style_classifier")
    twin = build_model(blob, StyleClassifier, StyleClassifierConfig, name, config_key="model")
    judge = GenreJudge(preset_path(name))
    x = (np.random.default_rng(3).random((N, 16, 9)) < 0.3).astype(np.float32)
    with torch.inference_mode():
        want = twin(torch.tensor(x))
    close(judge.model(x), want)
    np.testing.assert_array_equal(judge.predict(x), want.argmax(-1).numpy())


@pytest.mark.parametrize("name", [letters.GAN_PRESET, letters.CGAN_PRESET])
def test_generator_agrees_and_draws_the_same_glyphs(name):
    g, blob = letters.load_generator(preset_path(name))
    twin = build_model(blob, Generator, GanConfig, name)
    rng = np.random.default_rng(4)
    z = g.latent(N, rng)
    labels = rng.integers(0, g.cfg.classes, N) if g.cfg.conditional else None
    with torch.inference_mode():
        want = twin(torch.tensor(z), None if labels is None else torch.tensor(labels))[:, 0]
    close(g(z, labels), want)
    if g.cfg.conditional:  # a style seed's glyphs, as `drumfont letters` draws them
        glyphs = letters.drawable(preset_path(name))
        got = letters.draw_glyphs(glyphs, letters.style_latent(5, preset_path(name), 0.7), preset_path(name))
        # the style torch drew for seed 5 before the runtime was numpy
        lat = (twin.latent(1, torch.Generator().manual_seed(5)) * 0.7).expand(len(glyphs), -1)
        with torch.inference_mode():
            close(got, twin(lat, torch.arange(len(glyphs)))[:, 0])


def test_letter_classifier_agrees():
    clf, blob = letters.load_classifier()
    twin = build_model(blob, LetterClassifier, ClassifierConfig, "letter_classifier")
    x = np.random.default_rng(5).random((N, 28, 28)).astype(np.float32)
    with torch.inference_mode():
        close(clf.features(x), twin.features(torch.tensor(x)))
        want = twin(torch.tensor(x))
    close(clf(x), want)
    np.testing.assert_array_equal(clf.classify(x)[0], want.argmax(1).numpy())


def test_style_fitting_gradient_matches_autograd():
    """`--style-from` fits a latent by hand-written backpropagation: it must be torch's gradient."""
    g, _ = letters.conditional_generator(None)
    twin = build_model(_blob(letters.CGAN_PRESET, "letters_gan"), Generator, GanConfig, "cgan")
    rng = np.random.default_rng(6)
    z = g.latent(4, rng)
    labels = np.array([0, 7, 30, 45])
    target = rng.random((4, 28, 28)).astype(np.float32)
    zt = torch.tensor(z, requires_grad=True)
    out = twin(zt, torch.tensor(labels))[:, 0]
    torch.nn.functional.mse_loss(out, torch.tensor(target), reduction="sum").backward()
    images, grad = g.grad(z, labels, 2.0 * (g(z, labels) - target))
    close(images, out)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 4, 2**31, 2**32 - 1])
@pytest.mark.parametrize("n", [3, 8, 16, 64, 70, 110])
def test_torch_generator_on_numpy_draws_torch_normals(seed, n):
    from drumfont.nn.torch_random import TorchGenerator

    gen, twin = TorchGenerator(seed), torch.Generator().manual_seed(seed)
    close(gen.randn(n), torch.randn(n, generator=twin))
    assert gen.randint(26) == int(torch.randint(0, 26, (1,), generator=twin))
    close(gen.randn(16), torch.randn(16, generator=twin))


# --- the phrase model -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def phrase_pair():
    from drumfont.drums import phrase_engine
    from drumfont.drums.phrase import PhraseConfig, PhraseVAE

    blob = _blob(phrase_engine.PRESET_NAME, "phrase")
    return phrase_engine.load(), build_model(blob, PhraseVAE, PhraseConfig, "phrase", config_key="model")


def _phrases(n: int, bars: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = (rng.random((n, bars, 16, 9)) < 0.25).astype(np.float32)
    return np.concatenate([h, rng.random(h.shape, dtype=np.float32) * h,
                           2 * (rng.random(h.shape, dtype=np.float32) - 0.5) * h], -1)


def test_phrase_forwards_agree(phrase_pair):
    from drumfont.drums import phrase as tp
    from drumfont.drums import phrase_net as npn

    model, twin = phrase_pair
    net, rng = model._model, np.random.default_rng(8)
    x = _phrases(250, 4, 8)                                     # 1,000 bars
    g = rng.integers(-1, len(model.genres), len(x))
    fill = rng.random(x.shape[:2]) < 0.3
    z_p = rng.standard_normal((len(x), net.cfg.z_phrase)).astype(np.float32)
    z = rng.standard_normal((len(x), 4, net.cfg.z_bar)).astype(np.float32)
    none = np.zeros(len(x), bool)
    with torch.inference_mode():
        xt, gt = torch.tensor(x), torch.tensor(g)
        ctx = npn.context_grids(x, np.zeros_like(x[:, 0]))
        ctx_t = tp.context_grids(xt, torch.zeros_like(xt[:, 0]))
        close(ctx, ctx_t)
        for got, want in zip(net.encode_bars(x, ctx), twin.encode_bars(xt, ctx_t)):
            close(got, want)
        for got, want in zip(net.encode_phrase(x), twin.encode_phrase(xt)):
            close(got, want)
        cond = npn.conditions(fill, none, none, net.cfg.max_bars)
        cond_t = tp.conditions(torch.tensor(fill), torch.tensor(none), torch.tensor(none), net.cfg.max_bars)
        close(cond, cond_t)
        h0 = net.start(z_p, g)
        close(h0, twin.start(torch.tensor(z_p), gt)[0])
        hs, prior, last = net.conduct(x, cond, g, h0)
        hs_t, prior_t, last_t = twin.conduct(xt, cond_t, gt, torch.tensor(h0)[None])
        for got, want in ((hs, hs_t), (last, last_t[0]), (prior.logits, prior_t.logits), (prior.mu, prior_t.mu),
                          (prior.logvar, prior_t.logvar), (prior.log_density(z), prior_t.log_density(torch.tensor(z)))):
            close(got, want)
        for got, want in zip(net.decode(z, hs, z_p, ctx), twin.decode(torch.tensor(z), hs_t, torch.tensor(z_p), ctx_t)):
            close(got, want)
        rec, rec_t = net.reconstruct(x, g, fill), twin.reconstruct(xt, gt, torch.tensor(fill))
        np.testing.assert_array_equal(rec[0], rec_t[0].numpy())
        close(rec[1], rec_t[1])
        close(rec[2], rec_t[2])


def test_phrase_sampling_gives_the_same_bars(phrase_pair):
    """PhraseModel.sample_arrays against PhraseVAE.generate driven by the same numpy draws: the
    phrase latent's noise, then per bar one uniform picking the mixture component and the code's
    noise, in that order."""
    from drumfont.drums import phrase as tp

    model, twin = phrase_pair
    n, bars, seed = 64, 4, 11
    for genre in model.genres[:3]:
        hits, vel, off = model.sample_arrays(genre, n, bars, "end", 1.0, seed=seed)
        rng = np.random.default_rng(seed)
        gi = model._genre(genre)
        g = torch.full((n,), gi)
        row = min(gi, len(model._spread) - 1)
        spread, thr = torch.tensor(float(model._spread[row])), torch.tensor(float(model._threshold[row]))
        with torch.inference_mode():
            mu, logvar = twin.prior_phrase(g)
            z_p = mu + (0.5 * logvar).exp() * torch.tensor(rng.standard_normal(mu.shape, dtype=np.float32))
            fill = torch.zeros(n, bars, dtype=torch.bool)
            fill[:, -1] = True
            cond = tp.conditions(fill, torch.zeros(n, dtype=torch.bool), torch.zeros(n, dtype=torch.bool), 8)
            h, prev = twin.start(z_p, g), torch.zeros(n, 16, 27)
            first = torch.zeros_like(prev)
            got_h = []
            for i in range(bars):
                hs, prior, h = twin.conduct(prev[:, None], cond[:, i:i + 1], g, h)
                probs = torch.softmax(prior.logits, -1)[:, 0]
                u = torch.tensor(rng.random((n, 1)))[:, 0]
                k = torch.clamp((probs.cumsum(-1).double() < u[:, None]).sum(-1), max=probs.shape[-1] - 1)
                mu_k = prior.mu[:, 0][torch.arange(n), k]
                lv_k = prior.logvar[:, 0][torch.arange(n), k]
                eps = torch.tensor(rng.standard_normal((n, 1, mu_k.shape[-1]), dtype=np.float32))
                z = mu_k[:, None] + spread * (0.5 * lv_k[:, None]).exp() * eps
                logits, v, o = twin.decode(z, hs, z_p, torch.cat([prev, first], -1)[:, None])
                hit = logits[:, 0] > thr
                prev = model_input(hit.float(), v[:, 0], o[:, 0])
                if i == 0:
                    first = prev
                got_h.append(hit.numpy())
        np.testing.assert_array_equal(hits, np.stack(got_h, 1))
