"""Model contracts of the hierarchical drum VAE on a tiny config."""

from __future__ import annotations

import pytest
import torch

from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig, gaussian_kl, model_input, reconstruction_losses

TINY = HVAEConfig(channels=8, hidden=8, z_low=6, z_high=2, n_genres=3)


def batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    hits = (torch.rand((n, 16, 9), generator=g) < 0.2).float()
    return hits, torch.rand((n, 16, 9), generator=g) * hits


def offsets(hits: torch.Tensor, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 100)
    return (torch.rand(hits.shape, generator=g) - 0.5) * 0.6 * hits


def test_forward_shapes_and_finite_loss():
    torch.manual_seed(0)
    model = HierarchicalVAE(TINY)
    x, v = batch()
    out = model(x, generator=torch.Generator().manual_seed(1))
    assert out["logits"].shape == (16, 16, 9)
    assert out["velocity"].shape == (16, 16, 9)
    assert out["kl_high"].shape == (16, 2) and out["kl_low"].shape == (16, 6)
    assert out["genre_logits"].shape == (16, 3)
    assert (out["velocity"] >= 0).all() and (out["velocity"] <= 1).all()
    assert out["offset"].shape == (16, 16, 9) and out["offset"].abs().max() < 0.5
    bce, vel, off = reconstruction_losses(out, x, v, offsets=offsets(x))
    assert torch.isfinite(bce) and torch.isfinite(vel) and torch.isfinite(off)
    assert (out["kl_high"] >= -1e-6).all() and (out["kl_low"] >= -1e-6).all()


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mq, lq, mp, lp = (torch.randn((5, 3), generator=g) for _ in range(4))
    ours = gaussian_kl(mq, lq, mp, lp)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mq, (0.5 * lq).exp()),
                                            torch.distributions.Normal(mp, (0.5 * lp).exp()))
    assert torch.allclose(ours, ref, atol=1e-5)
    std = torch.distributions.kl_divergence(torch.distributions.Normal(mq, (0.5 * lq).exp()),
                                            torch.distributions.Normal(0.0, 1.0))
    assert torch.allclose(gaussian_kl(mq, lq), std, atol=1e-5)


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = HierarchicalVAE(TINY)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, v = batch()
    o = offsets(x)
    inp = model_input(x, v, o)

    def loss_now() -> float:
        with torch.no_grad():
            out = model(inp, generator=torch.Generator().manual_seed(5))
            bce, vel, off = reconstruction_losses(out, x, v, offsets=o)
            return float(bce + out["kl_high"].sum(1).mean() + out["kl_low"].sum(1).mean() + vel + off)

    before = loss_now()
    for step in range(30):
        out = model(inp, generator=torch.Generator().manual_seed(step))
        bce, vel, off = reconstruction_losses(out, x, v, offsets=o)
        loss = bce + out["kl_high"].sum(1).mean() + out["kl_low"].sum(1).mean() + vel + off
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_now() < 0.8 * before


def test_seeded_sampling_is_deterministic_and_binary():
    torch.manual_seed(0)
    model = HierarchicalVAE(TINY).eval()
    a, va, oa = model.sample(7, torch.Generator().manual_seed(3))
    b, vb, ob = model.sample(7, torch.Generator().manual_seed(3))
    c, _, _ = model.sample(7, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and torch.equal(va, vb) and torch.equal(oa, ob)
    assert not torch.equal(va, model.sample(7, torch.Generator().manual_seed(4))[1])
    assert set(a.unique().tolist()) <= {0.0, 1.0} and a.shape == (7, 16, 9)
    assert c.shape == a.shape


def test_save_load_reproduces_outputs(tmp_path):
    from drumfont.checkpoint import load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    model = HierarchicalVAE(TINY).eval()
    save_checkpoint(tmp_path / "m.pt", "vae", {"model": TINY.to_dict()}, model.state_dict())
    blob = load_checkpoint(tmp_path / "m.pt", "vae")
    again = HierarchicalVAE(HVAEConfig(**blob["config"]["model"])).eval()
    again.load_state_dict(blob["state_dict"])
    x, _ = batch()
    with torch.no_grad():
        for f in (lambda m: m.encode_mean(x), lambda m: m.decode(*m.encode_mean(x))):
            for p, q in zip(f(model), f(again)):
                assert torch.equal(p, q)


def test_steps_must_divide_by_four():
    with pytest.raises(ValueError):
        HierarchicalVAE(HVAEConfig(steps=10))


def test_transposed_conv_equals_the_module():
    from drumfont.drums.hvae import transposed_conv

    torch.manual_seed(0)
    layer = torch.nn.ConvTranspose1d(5, 3, 4, stride=2, padding=1)
    h = torch.randn(7, 5, 4)
    assert torch.allclose(transposed_conv(layer, h), layer(h), atol=1e-6)


def test_offset_loss_only_sees_hit_cells():
    torch.manual_seed(0)
    model = HierarchicalVAE(TINY)
    x, v = batch()
    out = model(model_input(x, v, offsets(x)), generator=torch.Generator().manual_seed(1))
    o = offsets(x)
    _, _, a = reconstruction_losses(out, x, v, offsets=o)
    _, _, b = reconstruction_losses(out, x, v, offsets=o + 0.3 * (1 - x))  # rests changed only
    assert torch.equal(a, b)
    _, _, c = reconstruction_losses(out, x, v, offsets=o + 0.3 * x)
    assert c > a


def test_encoder_reads_timing_and_hits_alone_mean_played_straight():
    torch.manual_seed(0)
    model = HierarchicalVAE(TINY).eval()
    x, v = batch()
    with torch.no_grad():
        straight = model.encode_mean(x)
        same = model.encode_mean(model_input(x))
        timed = model.encode_mean(model_input(x, v, offsets(x)))
    assert torch.equal(straight[1], same[1])
    assert not torch.allclose(straight[1], timed[1])
