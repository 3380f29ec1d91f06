"""Slow, plainly correct reference implementations (nats unless stated).

Nothing here is clever: loops, explicit resampling of samples, explicit enumeration of
every state, scipy quadrature. The fast code in mi_regimes is tested against these.
"""

from __future__ import annotations

import math
from itertools import combinations, product

import numpy as np
from scipy import integrate, optimize, special, stats


def counts_of_rows(x: np.ndarray) -> np.ndarray:
    """Counts of distinct rows via a Python dict of tuples."""
    seen: dict[tuple, int] = {}
    for row in np.asarray(x).tolist():
        key = tuple(row) if isinstance(row, list) else (row,)
        seen[key] = seen.get(key, 0) + 1
    return np.array(sorted(seen.values()), dtype=np.int64)


def pack_row(row) -> list[int]:
    """Little-endian packing of one {0,1} row into 64-bit words."""
    words = [0] * ((len(row) + 63) // 64)
    for j, bit in enumerate(row):
        if bit:
            words[j // 64] |= 1 << (j % 64)
    return words


def plugin(counts) -> float:
    n = sum(counts)
    return -sum((c / n) * math.log(c / n) for c in counts if c > 0)


def miller_madow(counts) -> float:
    k = sum(1 for c in counts if c > 0)
    return plugin(counts) + (k - 1) / (2 * sum(counts))


def jackknife(counts) -> float:
    """N full recomputations, one per left-out sample."""
    counts = [int(c) for c in counts if c > 0]
    n = sum(counts)
    loo = []
    for k, c in enumerate(counts):
        for _ in range(c):
            reduced = counts.copy()
            reduced[k] -= 1
            loo.append(plugin(reduced))
    return n * plugin(counts) - (n - 1) * float(np.mean(loo))


def chao_shen(counts) -> float:
    counts = [c for c in counts if c > 0]
    n = sum(counts)
    f1 = sum(1 for c in counts if c == 1)
    if f1 == n:
        f1 = n - 1
    cov = 1 - f1 / n
    total = 0.0
    for c in counts:
        p = cov * c / n
        total -= p * math.log(p) / (1 - (1 - p) ** n)
    return total


def grassberger(counts) -> float:
    counts = [c for c in counts if c > 0]
    n = sum(counts)
    s = 0.0
    for c in counts:
        g = special.digamma(c) + 0.5 * (-1) ** c * (
            special.digamma((c + 1) / 2) - special.digamma(c / 2)
        )
        s += c * g
    return math.log(n) - s / n


def expected_plugin(pmf, n: int) -> float:
    """Exact E[Ĥ_plugin] for n iid draws from pmf: a sum of binomial terms per state."""
    counts = np.arange(1, n + 1)
    q = counts / n
    f = -q * np.log(q)
    total = 0.0
    for p in pmf:  # one state at a time, every count 1..n (scipy's pmf, not ours)
        total += float(np.sum(stats.binom.pmf(counts, n, p) * f))
    return total


def plugin_moments_by_enumeration(pmf, n: int) -> tuple[float, float]:
    """Exact mean and variance (bits) of Ĥ_plugin over every count vector of n draws from
    pmf: the multinomial outcomes listed one by one (small K and n only)."""
    pmf = list(pmf)
    k = len(pmf)
    mean = second = 0.0
    for cut in combinations(range(n + k - 1), k - 1):  # stars and bars
        bounds = (-1, *cut, n + k - 1)
        counts = [bounds[i + 1] - bounds[i] - 1 for i in range(k)]
        log_prob = math.lgamma(n + 1) + sum(
            c * math.log(q) - math.lgamma(c + 1) if c else 0.0
            for c, q in zip(counts, pmf, strict=True))
        h = plugin([c for c in counts if c]) / math.log(2)
        mean += math.exp(log_prob) * h
        second += math.exp(log_prob) * h * h
    return mean, second - mean * mean


def bootstrap_exact_mean(counts) -> float:
    """E*[Ĥ*] of the multinomial bootstrap: the exact expectation on the empirical pmf."""
    counts = np.asarray(counts, dtype=float)
    return expected_plugin(counts / counts.sum(), int(counts.sum()))


def bootstrap_by_rows(counts, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Plug-in entropies of resamples drawn row by row (labels resampled with replacement)."""
    labels = np.repeat(np.arange(len(counts)), counts)
    out = np.empty(n_boot)
    for b in range(n_boot):
        res = rng.choice(labels, size=labels.size, replace=True)
        out[b] = plugin(np.bincount(res))
    return out


def bootstrap_poisson(counts, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Plug-in entropies of Poisson resamples drawn state by state: Poisson(n_k) copies each."""
    counts = np.asarray(counts)
    out = np.empty(n_boot)
    for b in range(n_boot):
        out[b] = plugin(rng.poisson(counts))
    return out


def nsb(counts, k: int) -> tuple[float, float]:
    """NSB posterior mean and s.d. with all k states enumerated and quad over log β.

    The likelihood and the prior dξ/dβ are evaluated with mpmath at 40 digits: in
    floating point both cancel catastrophically at large β.
    """
    import mpmath

    mpmath.mp.dps = 40
    a0 = np.zeros(k)
    a0[: len(counts)] = counts
    n = a0.sum()

    def log_like(beta):
        b = mpmath.mpf(beta)
        kap = k * b
        total = mpmath.loggamma(kap) - mpmath.loggamma(n + kap)
        for c in a0[a0 > 0]:  # unseen states contribute lnΓ(β) - lnΓ(β) = 0
            total += mpmath.loggamma(c + b) - mpmath.loggamma(b)
        return float(total)

    def prior(beta):  # dξ/dβ
        b = mpmath.mpf(beta)
        return float(k * mpmath.psi(1, k * b + 1) - mpmath.psi(1, b + 1))

    def moments(beta):
        a = a0 + beta
        big = a.sum()
        mean = special.digamma(big + 1) - np.sum(a * special.digamma(a + 1)) / big
        # E[H²] as the double sum over every pair of states (i = j and i != j terms)
        top = special.digamma(big + 2)
        pair = np.outer(a, a) * (np.outer(special.digamma(a + 1) - top,
                                          special.digamma(a + 1) - top)
                                 - special.polygamma(1, big + 2))
        same = a * (a + 1) * ((special.digamma(a + 2) - top) ** 2
                              + special.polygamma(1, a + 2) - special.polygamma(1, big + 2))
        second = pair.sum() - np.trace(pair) + same.sum()
        return mean, second / (big * (big + 1))

    # the whole posterior: a wide scan of ln β, then adaptive quadrature around its peak,
    # out to where the weight has fallen by e**-60 on both sides
    ts = np.linspace(-40.0 - math.log(k), 80.0, 400)
    logw = np.array([log_like(math.exp(t)) + math.log(prior(math.exp(t))) + t for t in ts])
    top = int(np.argmax(logw))
    inside = np.flatnonzero(logw >= logw[top] - 60)
    lo, hi = ts[max(inside[0] - 1, 0)], ts[min(inside[-1] + 1, ts.size - 1)]

    def weight(t):
        b = math.exp(t)
        return math.exp(log_like(b) + math.log(prior(b)) + t - logw[top])

    opts = {"limit": 1000, "points": [ts[top]], "epsabs": 0.0, "epsrel": 1e-13}
    z = integrate.quad(weight, lo, hi, **opts)[0]
    m1 = integrate.quad(lambda t: weight(t) * moments(math.exp(t))[0], lo, hi, **opts)[0] / z
    m2 = integrate.quad(lambda t: weight(t) * moments(math.exp(t))[1], lo, hi, **opts)[0] / z
    return m1, math.sqrt(max(m2 - m1 * m1, 0.0))


def all_words(d: int) -> np.ndarray:
    """Every d-bit row, in binary counting order (first column most significant)."""
    return np.array(list(product([0, 1], repeat=d)), dtype=np.uint8)


# ------------------------------------------------------------------ binary networks


def sign(v):
    """sign with sign(0) = +1."""
    return np.where(np.asarray(v) >= 0, 1.0, -1.0)


def xnor_dot(a_rows, w_rows) -> np.ndarray:
    """±1 matrix product the obvious way, in float64."""
    return sign(a_rows) @ sign(w_rows).T


def bnn_step(params, widths, x, y, *, binarize_input=False, threshold=0.5, eps=1e-5,
             keep=None, dropout=0.0):
    """Loss and straight-through gradients of a BinaryMLP, in float64, plainly.

    Batch norm is differentiated through its explicit B x B Jacobian per feature.
    ``keep`` optionally gives the dropout masks of each hidden layer.
    """
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    n_layers = len(widths) - 1
    b = x.shape[0]
    a = sign(np.asarray(x, float) - threshold) if binarize_input else np.asarray(x, float)
    saved = []
    for layer in range(1, n_layers + 1):
        w_sign = sign(p[f"W{layer}"])
        pre = a @ w_sign.T
        mu = pre.mean(axis=0)
        std = np.sqrt(pre.var(axis=0) + eps)
        xhat = (pre - mu) / std
        z = p[f"gamma{layer}"] * xhat + p[f"beta{layer}"]
        saved.append((a, w_sign, pre, mu, std, xhat, z))
        a = sign(z)
        if keep is not None:
            a = a * keep[layer - 1] / (1 - dropout)
    logits = a @ p["W_out"].T + p["b_out"]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(b), y]))
    onehot = np.zeros_like(probs)
    onehot[np.arange(b), y] = 1
    d = (probs - onehot) / b
    grads = {"W_out": d.T @ a, "b_out": d.sum(axis=0)}
    da = d @ p["W_out"]
    for layer in range(n_layers, 0, -1):
        a_in, w_sign, pre, mu, std, xhat, z = saved[layer - 1]
        if keep is not None:
            da = da * keep[layer - 1] / (1 - dropout)
        dz = da * (np.abs(z) <= 1)
        grads[f"gamma{layer}"] = (dz * xhat).sum(axis=0)
        grads[f"beta{layer}"] = dz.sum(axis=0)
        dxhat = dz * p[f"gamma{layer}"]
        dpre = np.zeros_like(pre)
        for j in range(pre.shape[1]):
            c = pre[:, j] - mu[j]
            jac = (np.eye(b) - 1.0 / b) / std[j] - np.outer(c, c) / (b * std[j] ** 3)
            dpre[:, j] = jac.T @ dxhat[:, j]
        grads[f"W{layer}"] = (dpre.T @ a_in) * (np.abs(p[f"W{layer}"]) <= 1)
        da = dpre @ w_sign
    return loss, grads, logits


def jvhw(counts) -> float:
    """JVHW in nats, written plainly: exact rational falling factorials per state."""
    from fractions import Fraction

    from mi_regimes._undersampled import jvhw_coefficients, jvhw_settings

    c = [int(v) for v in counts if v > 0]
    n = sum(c)
    degree, delta = jvhw_settings(n)
    coef = jvhw_coefficients(degree)
    total = 0.0
    for x in c:
        p = x / n
        plug = -p * math.log(p) + (1 - p) / (2 * n)
        blend = min(max(2 * p / delta - 1, 0.0), 1.0)
        if blend >= 1:
            total += plug
            continue
        poly = coef[0]
        for k in range(1, min(degree, x) + 1):
            falling = Fraction(1)
            for j in range(k):
                falling *= Fraction(x - j, n - j)
            poly += coef[k] * float(falling) / delta**k
        approx = delta * poly - p * math.log(delta)
        total += max(blend * plug + (1 - blend) * approx, 0.0)
    return total


def unseen(counts) -> float:
    """Valiant–Valiant unseen entropy in nats: the same two linear programmes, built with
    plain loops from the fingerprint (a check of the vectorised construction)."""
    from scipy import optimize

    from mi_regimes._undersampled import UNSEEN_GRID, UNSEEN_SLACK

    c = [int(v) for v in counts if v > 0]
    n = sum(c)
    top = max(c)
    f = [0] * (top + 1)
    for v in c:
        f[v] += 1
    cut = top
    for i in range(1, top + 1):
        w = math.ceil(math.sqrt(i))
        if sum(f[max(1, i - w): min(top, i + w) + 1]) <= 2 * math.sqrt(i):
            cut = i
            break
    last = min(top, cut + 2 * math.ceil(math.sqrt(cut)))
    seen = [i for i in range(last + 1, top + 1) if f[i] > 0]
    seen_mass = sum(i * f[i] for i in seen) / n
    h_seen = sum(f[i] * -(i / n) * math.log(i / n) for i in seen)
    fitted = f[1:last + 1]
    rare = 1 - seen_mass
    if rare <= 1e-12 or sum(fitted) == 0:
        return h_seen
    x_min, x_max = 1 / (n * max(10, n)), min(1.0, (last + 1) / n)
    grid = []
    x = x_min
    for _ in range(int(math.log(x_max / x_min) / math.log(UNSEEN_GRID)) + 2):
        grid.append(x)
        x *= UNSEEN_GRID
    rows = []
    for i in range(1, last + 1):
        rows.append([math.exp(i * math.log(n * g) - n * g - math.lgamma(i + 1)) for g in grid])
    j, r = len(grid), len(fitted)
    a_ub, b_ub = [], []
    for i in range(r):
        slack = [0.0] * r
        slack[i] = -1.0
        a_ub.append(rows[i] + slack)
        b_ub.append(fitted[i])
        a_ub.append([-v for v in rows[i]] + slack)
        b_ub.append(-fitted[i])
    cost = [0.0] * j + [1 / math.sqrt(v + 1) for v in fitted]
    a_eq = [grid + [0.0] * r]
    first = optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[rare],
                             bounds=(0, None), method="highs")
    second = optimize.linprog([1.0] * j + [0.0] * r, A_ub=a_ub + [cost],
                              b_ub=b_ub + [first.fun + UNSEEN_SLACK], A_eq=a_eq,
                              b_eq=[rare], bounds=(0, None), method="highs")
    h = (second if second.success else first).x[:j]
    return max(0.0, h_seen + sum(hj * -g * math.log(g) for hj, g in zip(h, grid, strict=True)))


def crp_log_probability(sequence, d, alpha) -> float:
    """ln P(a sequence of state labels) under the Pitman–Yor Chinese restaurant process,
    seat by seat: a new table w.p. (α + K d)/(α + i), table j w.p. (n_j - d)/(α + i)."""
    tables: dict = {}
    logp = 0.0
    for i, s in enumerate(sequence):
        if s in tables:
            logp += math.log((tables[s] - d) / (alpha + i))
            tables[s] += 1
        else:
            if i > 0:
                logp += math.log((alpha + len(tables) * d) / (alpha + i))
            tables[s] = 1
    return logp


def pym(counts, h_max: float, n_d: int = 300, n_u: int = 3000) -> float:
    """PYM posterior mean (nats) by brute force on one dense grid in (d, ln(α + d)), the
    evidence from its product formula summed term by term."""
    from scipy import special

    c = np.asarray([v for v in counts if v > 0], dtype=np.float64)
    n, k = c.sum(), c.size
    d = (np.arange(n_d) + 0.5) / n_d * 0.95
    u = np.linspace(math.log(1e-6), h_max + 1.0, n_u)
    dd, uu = np.meshgrid(d, u, indexing="ij")
    alpha = np.exp(uu) - dd
    logw = np.zeros_like(alpha)
    for l_ in range(1, k):
        logw += np.log(alpha + l_ * dd)
    for j in range(1, int(n)):  # Γ(α + 1)/Γ(α + N) as the product it is
        logw -= np.log(alpha + j)
    for v in c:
        logw += special.gammaln(v - dd) - special.gammaln(1 - dd)
    prior_mean = special.digamma(alpha + 1) - special.digamma(1 - dd)
    logw += np.log(special.polygamma(1, alpha + 1)) + uu
    logw = np.where(prior_mean <= h_max, logw, -np.inf)
    w = np.exp(logw - logw.max())
    big_a = alpha + n
    seen = sum((v - dd) * special.digamma(v - dd + 1) for v in c)
    mean = (special.digamma(big_a + 1) - seen / big_a
            - (alpha + k * dd) / big_a * special.digamma(1 - dd))
    return float(np.sum(w * mean) / np.sum(w))


def chernoff_mean_upper(observed: float, log_odds: float) -> float:
    """The μ >= s solving μ - s - s·ln(μ/s) = log_odds, by plain bisection (200 steps)."""
    s = float(observed)
    lo, hi = s, s + log_odds + 2 * math.sqrt(s * log_odds) + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        excess = mid - s - (s * math.log(mid / s) if s > 0 else 0.0) - log_odds
        lo, hi = (lo, mid) if excess > 0 else (mid, hi)
    return hi


def chernoff_mean_lower(observed: float, log_odds: float) -> float:
    """The μ <= s solving s·ln(s/μ) - s + μ = log_odds (0 if none), by scipy's brentq."""
    s = float(observed)
    if s <= 0:
        return 0.0

    def excess(mu):
        return s * math.log(s / mu) - s + mu - log_odds

    tiny = 1e-300
    return 0.0 if excess(tiny) <= 0 else optimize.brentq(excess, tiny, s, xtol=1e-14,
                                                         rtol=1e-13)


def plugin_bias(lam: float, n: int) -> float:
    """β = g(x) - E[g(c/N)], c ~ Binomial(N, x = λ/N), g(p) = p·log2(1/p), a plain sum
    over every count 0 … N."""
    x = min(lam / n, 1.0)
    counts = np.arange(0, n + 1)
    pmf = stats.binom.pmf(counts, n, x)
    q = counts / n
    g = np.where(q > 0, -q * np.log2(np.where(q > 0, q, 1.0)), 0.0)
    return float(-x * math.log2(x) - pmf @ g)


def bias_range(occupancy, n, k_states, log_odds, bin_starts, cells: int = 400):
    """The two linear programmes of the plug-in's bias range, written out plainly.

    One uniform grid in ln(λ) from N·2**-30/K to N (no separate dust); each cell's
    coefficients (bias and bin occupancy per unit mass, (N/λ)·β and (N/λ)·P(Poi(λ) ∈ bin):
    the bias over samples of exactly N, the bands Poisson statements) evaluated at 20
    points across the cell with plain sums
    (:func:`plugin_bias`), their extremes taken; the bands from
    :func:`chernoff_mean_upper` and :func:`chernoff_mean_lower`. K is a plain number here,
    and N small (the sums run to λ = N).
    """
    edges = np.geomspace(n * 2.0**-30 / k_states, n, cells + 1)
    starts = list(bin_starts) + [np.inf]
    bias_lo, bias_hi = np.empty(cells), np.empty(cells)
    occ_lo = np.empty((len(bin_starts), cells))
    occ_hi = np.empty((len(bin_starts), cells))
    for i in range(cells):
        lams = np.geomspace(edges[i], edges[i + 1], 20)
        b = np.array([n / lam * plugin_bias(lam, n) for lam in lams])
        bias_lo[i], bias_hi[i] = b.min(), b.max()
        for j in range(len(bin_starts)):
            prob = stats.poisson.cdf(starts[j + 1] - 1, lams) - stats.poisson.cdf(
                starts[j] - 1, lams)
            occ = n / lams * prob
            occ[occ < 1e-12] = 0.0  # below the solver's tolerance anyway
            occ_lo[j, i], occ_hi[j, i] = occ.min(), occ.max()
    up = np.array([chernoff_mean_upper(f, log_odds) for f in occupancy])
    lo = np.array([chernoff_mean_lower(f, log_odds) for f in occupancy])
    scale = 1 / np.maximum(up, 1.0)[:, None]  # conditioning only: rows of similar size
    a_ub = np.vstack([occ_lo * scale, -occ_hi * scale, (n / (edges[1:] * k_states))[None, :]])
    b_ub = np.concatenate([up * scale[:, 0], -lo * scale[:, 0], [1.0]])
    # the interior-point solver: the simplex one stalls on this grid's tiny coefficients
    kw = dict(A_ub=a_ub, b_ub=b_ub, A_eq=np.ones((1, cells)), b_eq=[1.0], method="highs-ipm")
    high = optimize.linprog(-bias_hi, **kw)
    low = optimize.linprog(bias_lo, **kw)
    assert high.status == 0 and low.status == 0, (high.message, low.message)
    return low.fun, -high.fun


def sign_table_product(x, w) -> np.ndarray:
    """``x · sign(w)ᵀ`` summed in the order mi_regimes.bnn.table_product documents.

    Per sample and unit, in float32 with each operation rounded: inputs in groups of
    four, g = (s0·x0 + s1·x1) + (s2·x2 + s3·x3); groups four per pass,
    p = (g0 + g1) + (g2 + g3); passes added in order to a sum starting at 0. Missing
    inputs (past the last column) count as 0.
    """
    x = np.asarray(x, np.float32)
    s = sign(w).astype(np.float32)
    n, k = x.shape
    passes = -(-k // 16)
    xp = np.zeros((n, 16 * passes), np.float32)
    xp[:, :k] = x
    sp = np.ones((s.shape[0], 16 * passes), np.float32)
    sp[:, :k] = s
    total = np.zeros((n, s.shape[0]), np.float32)
    for p in range(passes):
        groups = []
        for g in range(4):
            t = [xp[:, 16 * p + 4 * g + u, None] * sp[None, :, 16 * p + 4 * g + u]
                 for u in range(4)]
            groups.append((t[0] + t[1]) + (t[2] + t[3]))
        total = total + ((groups[0] + groups[1]) + (groups[2] + groups[3]))
    return total
