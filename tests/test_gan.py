"""The letter GAN's networks and losses on tiny configs: shapes, each stabiliser, unrolling."""

from __future__ import annotations

import pytest
import torch

from drumfont.letters.gan import (
    Discriminator,
    GanConfig,
    Generator,
    MinibatchDiscrimination,
    d_loss,
    diff_augment,
    g_loss,
    info_loss,
    minibatch_stddev,
    recalibrate_batchnorm,
    unrolled_g_loss,
)

TINY = dict(z_dim=8, g_width=8, d_width=4, dropout=0.0)
STABILISERS = {
    "vanilla": {}, "feature_matching": {"feature_matching": 1.0}, "unrolled": {"unrolled": 2},
    "mbd": {"mbd": True, "mbd_b": 5, "mbd_c": 3}, "mbstd": {"mbstd": True}, "diffaug": {"diffaug": True},
    "r1": {"r1": 1.0}, "info": {"info_codes": 5}, "all": {"feature_matching": 1.0, "unrolled": 1, "mbd": True, "mbstd": True,
                               "diffaug": True, "r1": 1.0, "info_codes": 5},
}


def _batch(cfg: GanConfig, b: int = 6, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    real = torch.rand(b, 1, 28, 28, generator=gen)
    labels = torch.randint(0, 26, (b,), generator=gen) if cfg.conditional else None
    z = torch.randn(b, cfg.z_dim, generator=gen)
    return real, labels, z, gen


@pytest.mark.parametrize("conditional", [False, True])
def test_shapes_and_range(conditional):
    cfg = GanConfig(conditional=conditional, mbd=True, mbstd=True, **TINY)
    g, d = Generator(cfg), Discriminator(cfg)
    real, labels, z, _ = _batch(cfg)
    x = g(z, labels).detach()
    assert x.shape == (6, 1, 28, 28)
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    logit, feats = d(x, labels)
    assert logit.shape == (6,)
    assert feats.shape == (6, 2 * cfg.d_width * 7 * 7)


def test_conditional_needs_labels():
    cfg = GanConfig(conditional=True, **TINY)
    with pytest.raises(ValueError):
        Generator(cfg)(torch.zeros(2, cfg.z_dim))
    with pytest.raises(ValueError):
        Discriminator(cfg)(torch.zeros(2, 1, 28, 28))


def test_conditional_generator_uses_the_label():
    cfg = GanConfig(conditional=True, **TINY)
    g = Generator(cfg).eval()
    z = torch.randn(1, cfg.z_dim).expand(2, -1)
    x = g(z, torch.tensor([0, 25]))
    assert not torch.allclose(x[0], x[1])


@pytest.mark.parametrize("name", list(STABILISERS))
def test_each_stabiliser_losses_finite_and_steps_move_weights(name):
    cfg = GanConfig(**TINY, **STABILISERS[name])
    torch.manual_seed(0)
    g, d = Generator(cfg), Discriminator(cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3)
    real, labels, _, gen = _batch(cfg)
    z = g.latent(len(real), gen)
    codes = g.codes(z)
    before = [p.detach().clone() for p in g.parameters()]
    for _ in range(2):
        fake = g(z, labels)
        ld = d_loss(d, real, fake.detach(), labels, labels, cfg, gen, codes=codes)
        opt_d.zero_grad()
        ld.backward()
        opt_d.step()
        lg = (unrolled_g_loss if cfg.unrolled else g_loss)(d, real, fake, labels, labels, cfg, gen, codes=codes)
        opt_g.zero_grad()
        lg.backward()
        opt_g.step()
        assert torch.isfinite(ld) and torch.isfinite(lg)
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters()))


def test_unrolled_gradient_differs_from_plain_and_leaves_d_alone():
    cfg = GanConfig(**TINY, unrolled=3, unrolled_lr=0.5)
    torch.manual_seed(0)
    g, d = Generator(cfg), Discriminator(cfg)
    real, labels, z, _ = _batch(cfg)
    d_before = {k: v.clone() for k, v in d.state_dict().items()}

    def g_grad(loss_fn):
        g.zero_grad()
        loss_fn(d, real, g(z), None, None, cfg).backward()
        return torch.cat([p.grad.flatten() for p in g.parameters()])

    plain = g_grad(g_loss)
    zero_steps = g_grad(lambda *a: unrolled_g_loss(*a, k=0))
    unrolled = g_grad(unrolled_g_loss)
    assert torch.allclose(plain, zero_steps, atol=1e-6)        # k = 0 is the plain loss
    assert (plain - unrolled).norm() > 1e-3 * plain.norm()     # the look-ahead changes G's gradient
    for k, v in d.state_dict().items():
        assert torch.equal(v, d_before[k])                      # D itself is untouched


def test_r1_penalises_d_gradient():
    torch.manual_seed(0)
    cfg0, cfg1 = GanConfig(**TINY), GanConfig(**TINY, r1=10.0)
    d = Discriminator(cfg0)
    real, _, _, _ = _batch(cfg0)
    fake = torch.rand_like(real)
    assert d_loss(d, real, fake, None, None, cfg1) > d_loss(d, real, fake, None, None, cfg0)


def test_minibatch_layers_see_the_batch():
    h = torch.randn(4, 3, 7, 7)
    assert minibatch_stddev(h).shape == (4, 4, 7, 7)
    same = minibatch_stddev(h[:1].expand(4, -1, -1, -1))
    assert torch.allclose(same[:, -1], torch.full((4, 7, 7), 1e-4), atol=1e-3)  # sqrt(0 + 1e-8)
    mbd = MinibatchDiscrimination(10, 5, 3)
    x = torch.randn(4, 10)
    out = mbd(x)
    assert out.shape == (4, 15)
    collapsed = mbd(x[:1].expand(4, -1))[:, 10:]
    assert torch.allclose(collapsed, torch.full((4, 5), 3.0))   # identical samples: exp(0) for 3 others


def test_diff_augment_is_differentiable_and_seeded():
    x = torch.rand(5, 1, 28, 28, requires_grad=True)
    a = diff_augment(x, torch.Generator().manual_seed(1))
    b = diff_augment(x, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == x.shape
    assert not torch.equal(a, x)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_info_code_is_part_of_the_latent_and_read_back_by_d():
    cfg = GanConfig(**TINY, info_codes=4)
    g, d = Generator(cfg), Discriminator(cfg)
    gen = torch.Generator().manual_seed(0)
    z = g.latent(400, gen)
    assert z.shape == (400, cfg.z_dim + 4)
    codes = g.codes(z)
    assert torch.equal(z[torch.arange(400), cfg.z_dim + codes], torch.ones(400))
    assert sorted(torch.bincount(codes, minlength=4).tolist())[0] > 60      # drawn uniformly
    assert Generator(GanConfig(**TINY)).codes(z) is None
    # the term is cross-entropy of D's head on the fakes' features: log 4 at a blind head
    _, feats = d(g(z).detach())
    torch.nn.init.zeros_(d.info.weight), torch.nn.init.zeros_(d.info.bias)
    assert abs(float(info_loss(d, feats, codes, cfg).detach()) - float(torch.log(torch.tensor(4.0)))) < 1e-5
    assert info_loss(d, feats, None, cfg) == 0.0
    # G gets a gradient from it: drawing the code so D can read it back
    g.zero_grad()
    _, feats = d(g(z))
    info_loss(d, feats, codes, cfg).backward()
    assert g.project[0].weight.grad.abs().sum() == 0   # zero head: no signal yet
    torch.nn.init.normal_(d.info.weight)
    g.zero_grad()
    _, feats = d(g(z))
    info_loss(d, feats, codes, cfg).backward()
    assert g.project[0].weight.grad.abs().sum() > 0


def test_recalibrate_batchnorm_measures_the_generators_own_batches():
    cfg = GanConfig(**TINY)
    g = Generator(cfg).eval()
    bn = g.project[1]
    bn.running_mean.fill_(5.0)
    bn.running_var.fill_(7.0)
    recalibrate_batchnorm(g, torch.Generator().manual_seed(0), batches=16, size=256)
    assert not g.training and bn.momentum == 0.1
    with torch.no_grad():
        h = g.project[0](g.latent(4096, torch.Generator().manual_seed(1)))
    assert torch.allclose(bn.running_mean, h.mean(0), atol=0.1)
    assert torch.allclose(bn.running_var, h.var(0), rtol=0.2)
