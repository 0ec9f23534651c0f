"""Fits the coefficients of ElementWise.NORMAL_TAIL (the GELU kernels' normal tail).

Phi(-a) = exp(-a^2/2) * tau * P(tau), tau = 1 / (1 + 0.4 a), a >= 0. P has degree 10 and is
fitted on 3000 Chebyshev nodes of tau over a in [0, 25] by least squares with Lawson's
reweighting towards the minimax relative error; the coefficients are printed rounded to
float, lowest power first. Run with /usr/bin/python3 (NumPy); prints the relative error of
the fit in double (1.6e-8) before the coefficients.
"""
import math

import numpy as np

SCALE = 0.4
DEGREE = 10
NODES = 3000


def scaled_tail(a):
    """Phi(-a) * exp(a^2 / 2) in double."""
    return 0.5 * math.erfc(a / math.sqrt(2)) * math.exp(a * a / 2)


def main():
    k = np.arange(NODES)
    low, high = 1 / (1 + SCALE * 25.0), 1.0
    tau = (low + high) / 2 + (high - low) / 2 * np.cos(np.pi * (k + 0.5) / NODES)
    a = (1 / tau - 1) / SCALE
    y = np.array([scaled_tail(v) for v in a]) / tau
    V = np.vander(tau, DEGREE + 1, increasing=True)
    w = np.ones(NODES)
    for _ in range(60):
        root = np.sqrt(w)
        coef = np.linalg.lstsq(V * (root / y)[:, None], root, rcond=None)[0]
        r = np.abs(V @ coef / y - 1)
        w = w * (r + 1e-30)
        w /= w.sum()
    print(np.abs(V @ coef / y - 1).max())
    for c in coef:
        print(repr(float(np.float32(c))) + "f,")


if __name__ == "__main__":
    main()
