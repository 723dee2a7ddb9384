"""drumfont.nn.layers against their torch twins: random weights, random inputs, eval mode; each
numpy layer (channels-last) must compute what the torch layer (channels-first) computes."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.errors import CheckpointError
from drumfont.nn import layers as L

torch = pytest.importorskip("torch")
nn = torch.nn

TOL = dict(rtol=1e-5, atol=1e-5)


def _state(module: "torch.nn.Module", prefix: str = "m") -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": v.detach().numpy() for k, v in module.state_dict().items()}


def _seeded(module):
    torch.manual_seed(0)
    for p in module.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return module.eval()


def test_linear_and_embedding():
    lin = _seeded(nn.Linear(7, 5))
    x = np.random.default_rng(0).standard_normal((3, 4, 7)).astype(np.float32)
    np.testing.assert_allclose(L.Linear(_state(lin), "m", 7, 5)(x), lin(torch.tensor(x)).detach().numpy(), **TOL)
    emb = _seeded(nn.Embedding(6, 3))
    idx = np.array([0, 5, 2, 2])
    np.testing.assert_array_equal(L.Embedding(_state(emb), "m")(idx), emb(torch.tensor(idx)).detach().numpy())


@pytest.mark.parametrize("kernel, stride, padding, dilation", [(3, 1, 1, 1), (4, 2, 1, 1), (3, 1, 4, 4), (1, 1, 0, 1),
                                                               (5, 3, 2, 1)])
def test_conv1d(kernel, stride, padding, dilation):
    conv = _seeded(nn.Conv1d(6, 8, kernel, stride=stride, padding=padding, dilation=dilation))
    x = np.random.default_rng(1).standard_normal((5, 16, 6)).astype(np.float32)        # (B, L, C)
    want = conv(torch.tensor(x).transpose(1, 2)).transpose(1, 2).detach().numpy()
    got = L.Conv1d(_state(conv), "m", 6, 8, kernel, stride=stride, padding=padding, dilation=dilation)(x)
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("kernel, stride, padding", [(4, 2, 1), (3, 1, 1), (5, 3, 0)])
def test_conv_transpose1d(kernel, stride, padding):
    conv = _seeded(nn.ConvTranspose1d(6, 4, kernel, stride=stride, padding=padding))
    x = np.random.default_rng(2).standard_normal((3, 7, 6)).astype(np.float32)
    want = conv(torch.tensor(x).transpose(1, 2)).transpose(1, 2).detach().numpy()
    got = L.ConvTranspose1d(_state(conv), "m", 6, 4, kernel, stride=stride, padding=padding)(x)
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, 1), (4, 2, 1), (3, 2, 0)])
def test_conv2d(kernel, stride, padding):
    conv = _seeded(nn.Conv2d(3, 5, kernel, stride=stride, padding=padding))
    x = np.random.default_rng(3).standard_normal((2, 9, 8, 3)).astype(np.float32)      # (B, H, W, C)
    want = conv(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).detach().numpy()
    got = L.Conv2d(_state(conv), "m", 3, 5, kernel, stride=stride, padding=padding)(x)
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_and_its_gradient(bias):
    conv = _seeded(nn.ConvTranspose2d(4, 3, 4, 2, 1, bias=bias))
    x = np.random.default_rng(4).standard_normal((2, 7, 7, 4)).astype(np.float32)
    xt = torch.tensor(x).permute(0, 3, 1, 2).requires_grad_(True)
    yt = conv(xt)
    layer = L.ConvTranspose2d(_state(conv), "m", 4, 3, 4, stride=2, padding=1)
    np.testing.assert_allclose(layer(x), yt.permute(0, 2, 3, 1).detach().numpy(), **TOL)
    g = np.random.default_rng(5).standard_normal((2, 14, 14, 3)).astype(np.float32)
    yt.backward(torch.tensor(g).permute(0, 3, 1, 2))
    np.testing.assert_allclose(layer.backward(g, 7, 7), xt.grad.permute(0, 2, 3, 1).numpy(), **TOL)


def test_batch_norm_eval_group_norm_and_pooling():
    bn = _seeded(nn.BatchNorm2d(4))
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    x = np.random.default_rng(6).standard_normal((2, 5, 5, 4)).astype(np.float32)
    want = bn(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).detach().numpy()
    np.testing.assert_allclose(L.BatchNorm(_state(bn), "m", 4)(x), want, **TOL)
    gn = _seeded(nn.GroupNorm(1, 6))
    s = np.random.default_rng(7).standard_normal((3, 16, 6)).astype(np.float32)
    want = gn(torch.tensor(s).transpose(1, 2)).transpose(1, 2).detach().numpy()
    np.testing.assert_allclose(L.GroupNorm1(_state(gn), "m", 6)(s), want, **TOL)
    want = nn.MaxPool2d(2)(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(L.max_pool2d(x), want)


def test_gru_cell_and_gru():
    cell = _seeded(nn.GRUCell(5, 7))
    x = np.random.default_rng(8).standard_normal((4, 5)).astype(np.float32)
    h = np.random.default_rng(9).standard_normal((4, 7)).astype(np.float32)
    want = cell(torch.tensor(x), torch.tensor(h)).detach().numpy()
    np.testing.assert_allclose(L.GRUCell(_state(cell), "m", 5, 7)(x, h), want, **TOL)
    gru = _seeded(nn.GRU(5, 7, batch_first=True))
    seq = np.random.default_rng(10).standard_normal((4, 6, 5)).astype(np.float32)
    hs, last = gru(torch.tensor(seq), torch.tensor(h)[None])
    got_hs, got_last = L.GRU(_state(gru), "m", 5, 7)(seq, h)
    np.testing.assert_allclose(got_hs, hs.detach().numpy(), **TOL)
    np.testing.assert_allclose(got_last, last[0].detach().numpy(), **TOL)


def test_activations_match_torch_in_the_tails():
    x = np.linspace(-40, 40, 801, dtype=np.float32)
    t = torch.tensor(x)
    np.testing.assert_allclose(L.sigmoid(x), torch.sigmoid(t).numpy(), rtol=1e-6, atol=0)  # relative: tails too
    np.testing.assert_allclose(L.leaky_relu(x), nn.functional.leaky_relu(t, 0.2).numpy())
    np.testing.assert_array_equal(L.relu(x), torch.relu(t).numpy())


def test_a_weight_of_the_wrong_shape_or_missing_is_a_checkpoint_error():
    state = {"m.weight": np.zeros((5, 7), np.float32), "m.bias": np.zeros(5, np.float32)}
    with pytest.raises(CheckpointError, match=r"'m.weight' has shape \(5, 7\), expected \(5, 8\)"):
        L.Linear(state, "m", 8, 5)
    with pytest.raises(CheckpointError, match="lack 'x.weight'"):
        L.Linear(state, "x")
    state["m.weight"][0, 0] = np.nan
    with pytest.raises(CheckpointError, match="non-finite"):
        L.Linear(state, "m")
