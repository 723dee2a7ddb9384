"""The image operations the glyph tracer needs, on numpy: Gaussian smoothing, cubic-spline
upsampling, a disk maximum, connected pieces, hole filling, marching squares and Douglas-Peucker.

They compute what scipy.ndimage (gaussian_filter, zoom order 3 in grid mode, maximum_filter,
label, binary_fill_holes) and scikit-image (find_contours, approximate_polygon) compute, with the
same defaults the tracer used (reflecting edges; 4-connected pieces; marching squares joining the
low side at a saddle), to within float rounding (1e-15 on the glyph images, tests/test_raster.py):
so a font is traced as before, and `pip install .` needs neither library (200 MB of the install).
"""

from __future__ import annotations

from collections import deque

import numpy as np

F64 = np.float64


# --- smoothing and upsampling ------------------------------------------------------------------

def _reflect(a: np.ndarray, r: int) -> np.ndarray:
    """a padded by r along axis 0 with its edge mirrored, the edge sample repeated (d c b a | a b c d)."""
    return np.concatenate([a[:r][::-1], a, a[len(a) - r:][::-1]], axis=0) if r else a


def gaussian_filter(image: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """scipy.ndimage.gaussian_filter: a normalised Gaussian of `sigma` out to truncate x sigma,
    along each axis in turn, edges reflected."""
    r = int(truncate * float(sigma) + 0.5)
    x = np.arange(-r, r + 1)
    w = np.exp(-0.5 / (sigma * sigma) * x ** 2)
    w = w / w.sum()
    out = np.asarray(image, F64)
    for axis in range(out.ndim):
        a = np.moveaxis(out, axis, 0)
        p, n = _reflect(a, r), a.shape[0]
        acc = w[r] * p[r:r + n]
        for j in range(1, r + 1):  # symmetric taps summed in pairs, as scipy does
            acc = acc + w[r + j] * (p[r + j:r + j + n] + p[r - j:r - j + n])
        out = np.moveaxis(acc, 0, axis)
    return out


_POLE = np.sqrt(3.0) - 2.0   # the cubic B-spline's pole


def _spline_coefficients(a: np.ndarray) -> np.ndarray:
    """Cubic B-spline coefficients along axis 0: the causal and anti-causal recursions with
    mirror-symmetric starting values (scipy.ndimage.spline_filter1d)."""
    c, z, n = np.array(a, F64), _POLE, a.shape[0]
    c *= (1 - z) * (1 - 1 / z)
    z_n = z ** (n - 1)
    first, z_i = c[0] + z_n * c[n - 1], z
    for i in range(1, n - 1):
        first = first + z_i * (c[i] + z_n * c[n - 1 - i])
        z_i *= z
    c[0] = first / (1 - z_n * z_n)
    for i in range(1, n):
        c[i] += z * c[i - 1]
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1)
    for i in range(n - 2, -1, -1):
        c[i] = z * (c[i + 1] - c[i])
    return c


def zoom(image: np.ndarray, factor: int, pad: int = 12) -> np.ndarray:
    """scipy.ndimage.zoom(image, factor, order=3, grid_mode=True, mode="grid-constant"): zeros
    outside, the cubic spline through the samples read at the centres of the output's pixels."""
    img = np.asarray(image, F64)
    out = np.pad(img, pad)
    for axis in range(img.ndim):
        out = np.moveaxis(_spline_coefficients(np.moveaxis(out, axis, 0)), 0, axis)
    for axis in range(img.ndim):
        n_in = img.shape[axis]
        n_out = int(round(n_in * factor))
        x = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5 + pad
        start = np.floor(x)
        t = x - start
        start = start.astype(np.int64) - 1
        weights = ((1 - t) ** 3 / 6, 2 / 3 - t * t + t * t * t / 2, (1 + 3 * t + 3 * t * t - 3 * t * t * t) / 6,
                   t ** 3 / 6)
        m = np.moveaxis(out, axis, 0)
        shape = (-1,) + (1,) * (m.ndim - 1)
        res = sum(w.reshape(shape) * m[start + k] for k, w in enumerate(weights))
        out = np.moveaxis(res, 0, axis)
    return out


def disk_maximum(image: np.ndarray, radius: int) -> np.ndarray:
    """scipy.ndimage.maximum_filter with a disk footprint (x^2 + y^2 <= r^2), edges reflected."""
    a = np.asarray(image)
    h, w = a.shape
    p = _reflect(_reflect(a, radius).T, radius).T
    out = np.full(a.shape, -np.inf)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy <= radius * radius:
                out = np.maximum(out, p[radius + dy:radius + dy + h, radius + dx:radius + dx + w])
    return out.astype(a.dtype, copy=False)


# --- pieces and holes --------------------------------------------------------------------------

def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected pieces of a boolean image: (labels 1..n, 0 = background; n). Runs of each row
    are joined to the runs they touch in the row above (union-find), so the work grows with the
    runs, not the pixels."""
    m = np.asarray(mask, bool)
    h, w = m.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = m
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)              # the same row order: one end per start
    parent = list(range(len(starts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_row: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_row.setdefault(int(r), []).append(i)
    for r, runs in by_row.items():
        above = by_row.get(r - 1, [])
        j = 0
        for i in runs:
            while j < len(above) and ends[above[j]] <= starts[i]:
                j += 1
            k = j
            while k < len(above) and starts[above[k]] < ends[i]:
                a, b = root(i), root(above[k])
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    labels = np.zeros((h, w), np.int64)
    names: dict[int, int] = {}
    for i in range(len(starts)):
        labels[rows[i], starts[i]:ends[i]] = names.setdefault(root(i), len(names) + 1)
    return labels, len(names)


def sizes(labels: np.ndarray, n: int) -> np.ndarray:
    """Pixels in each of pieces 1..n."""
    return np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(F64)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """scipy.ndimage.binary_fill_holes: the background no 4-connected path joins to the edge, filled."""
    m = np.asarray(mask, bool)
    background, _ = label(~m)
    edge = np.unique(np.r_[background[0], background[-1], background[:, 0], background[:, -1]])
    return m | ~np.isin(background, edge)


# --- contours -----------------------------------------------------------------------------------

def _fraction(a: np.ndarray, b: np.ndarray, level: float) -> np.ndarray:
    """Where between samples a and b the level lies (0 where they are equal)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == a, 0.0, (level - a) / (b - a))


def _segments(image: np.ndarray, level: float) -> list[tuple[tuple, tuple]]:
    """Marching squares' segments, square by square in row-major order, each from-to so that the
    high side is on the same hand (skimage.measure's, saddles joined on the low side)."""
    a = np.asarray(image, F64)
    ul, ur, ll, lr = a[:-1, :-1], a[:-1, 1:], a[1:, :-1], a[1:, 1:]
    case = (ul > level) * 1 + (ur > level) * 2 + (ll > level) * 4 + (lr > level) * 8
    top, bottom = _fraction(ul, ur, level), _fraction(ll, lr, level)
    left, right = _fraction(ul, ll, level), _fraction(ur, lr, level)
    out = []
    for r0, c0 in zip(*np.nonzero((case != 0) & (case != 15))):
        r, c = int(r0), int(c0)
        t, b = (r, c + float(top[r, c])), (r + 1, c + float(bottom[r, c]))
        lf, rt = (r + float(left[r, c]), c), (r + float(right[r, c]), c + 1)
        out += {1: [(t, lf)], 2: [(rt, t)], 3: [(rt, lf)], 4: [(lf, b)], 5: [(t, b)], 6: [(rt, t), (lf, b)],
                7: [(rt, b)], 8: [(b, rt)], 9: [(t, lf), (b, rt)], 10: [(b, t)], 11: [(b, lf)],
                12: [(lf, rt)], 13: [(t, rt)], 14: [(lf, t)]}[int(case[r, c])]
    return out


def find_contours(image: np.ndarray, level: float) -> list[np.ndarray]:
    """skimage.measure.find_contours(image, level): the level's iso-lines as (K, 2) (row, col)
    arrays, closed ones ending on their first point, in the order they start (top to bottom,
    left to right). Segments meeting end to start are chained; when a segment joins two chains,
    the one begun first keeps its place."""
    chains: dict[int, deque] = {}
    starts: dict[tuple, tuple[deque, int]] = {}
    ends: dict[tuple, tuple[deque, int]] = {}
    count = 0
    for a, b in _segments(image, level):
        if a == b:  # a corner exactly at the level: its neighbours draw it
            continue
        tail, tail_id = starts.pop(b, (None, None))
        head, head_id = ends.pop(a, (None, None))
        if tail is not None and head is not None:
            if tail is head:  # closing a chain
                head.append(b)
            elif tail_id > head_id:  # tail begun later: it goes on the end of head
                head.extend(tail)
                chains.pop(tail_id, None)
                starts[head[0]] = (head, head_id)
                ends[head[-1]] = (head, head_id)
            else:  # head begun later: it goes before tail
                tail.extendleft(reversed(head))
                starts.pop(head[0], None)
                chains.pop(head_id, None)
                starts[tail[0]] = (tail, tail_id)
                ends[tail[-1]] = (tail, tail_id)
        elif tail is None and head is None:
            chain = deque((a, b))
            chains[count] = chain
            starts[a] = (chain, count)
            ends[b] = (chain, count)
            count += 1
        elif head is None:
            tail.appendleft(a)
            starts[a] = (tail, tail_id)
        else:
            head.append(b)
            ends[b] = (head, head_id)
    return [np.array(chain) for _, chain in sorted(chains.items())]


def approximate_polygon(coords: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker (skimage.measure.approximate_polygon): the points of a chain kept so that
    none dropped lies farther than `tolerance` from the kept chain (measured to the segment's line
    where the point projects inside it, else to the nearer end)."""
    if tolerance <= 0:
        return coords
    keep = np.zeros(len(coords), bool)
    dists = np.zeros(len(coords))
    keep[0] = keep[-1] = True
    todo = [(0, len(coords) - 1)]
    while todo:
        start, end = todo.pop()
        r0, c0 = coords[start]
        r1, c1 = coords[end]
        dr, dc = r1 - r0, c1 - c0
        angle = -np.arctan2(dr, dc)
        offset = c0 * np.sin(angle) + r0 * np.cos(angle)
        inner = coords[start + 1:end]
        d = dists[start + 1:end]
        dr0, dc0 = inner[:, 0] - r0, inner[:, 1] - c0
        dr1, dc1 = inner[:, 0] - r1, inner[:, 1] - c1
        between = (dr0 * dr + dc0 * dc > 0) & (-dr1 * dr - dc1 * dc > 0)
        beyond = ~between
        d[between] = np.abs(inner[between, 0] * np.cos(angle) + inner[between, 1] * np.sin(angle) - offset)
        d[beyond] = np.minimum(np.sqrt(dc0[beyond] ** 2 + dr0[beyond] ** 2), np.sqrt(dc1[beyond] ** 2 + dr1[beyond] ** 2))
        if np.any(d > tolerance):
            cut = start + 1 + int(np.argmax(d))
            keep[cut] = True
            todo.append((cut, end))
            todo.append((start, cut))
    return coords[keep]
