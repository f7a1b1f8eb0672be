using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The prediction of gradient flow on the mean squared error of a linear model in a kernel's feature space (the
/// infinitely wide network in the NTK regime, docs/maths.md, "Infinite-width NTK"), in closed form as a spectral filter.
/// </summary>
/// <remarks>
/// With loss (1/2n)‖f(X) − Y‖², learning rate η and the function's evolution ∂f/∂t = −(η/n)·K(·, X)(f(X) − Y) started
/// from f_0 = 0, the function at time t is f_t(x) = K(x, X)·α with
/// α = K⁻¹(I − e^{−ηtK/n})Y = V·diag(g(s_i))·VᵀY, g(s) = (1 − e^{−ηts/n})/s, for K = V diag(s) Vᵀ.
/// g is bounded (g(s) → ηt/n as s → 0), so no inverse of K is needed; a null direction v of a Gram kernel (Kv = 0)
/// has K(x, X)v = 0 for every x, so its weight does not change predictions. t → ∞ gives the minimum-norm interpolant
/// K⁺Y; small t gives (ηt/n)·K(x, X)Y to first order.
/// A network started from a random f_0 gives f_t = f_0 + K(·, X)K⁻¹(I − e^{−ηtK/n})(Y − f_0(X)); the terms in f_0
/// have mean zero over initialisations, so dropping them (f_0 = 0) gives the mean prediction over initialisations.
/// </remarks>
internal static class GradientFlowKernelRegression
{
    /// <summary>
    /// Dual weights α (n×c, a new tensor owned by the caller's dispose scope) such that f_t(x) = K(x, X)·α.
    /// </summary>
    /// <param name="kernel">K (n×n), symmetric positive semi-definite, float64, not modified.</param>
    /// <param name="targets">Y (n×c), not modified.</param>
    /// <param name="learningRate">η, positive and finite.</param>
    /// <param name="time">t, positive and finite (t = ∞ is kernel regression: use <see cref="KernelRidge"/>).</param>
    /// <param name="checkAlive">Throws when the fit is cancelled, checked while a large kernel is decomposed; or null.</param>
    public static Tensor DualWeights(Tensor kernel, Tensor targets, double learningRate, double time, Action? checkAlive = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(targets);
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "Must be a positive finite number.");
        if (!(time > 0) || !double.IsFinite(time))
            throw new ArgumentOutOfRangeException(nameof(time), time, "Must be a positive finite number.");
        long n = kernel.shape[0];
        if (kernel.dim() != 2 || kernel.shape[1] != n || targets.dim() != 2 || targets.shape[0] != n)
            throw new ArgumentException($"Expected an n×n kernel and n×c targets, got [{string.Join(", ", kernel.shape)}] and [{string.Join(", ", targets.shape)}].", nameof(targets));

        using var scope = torch.NewDisposeScope();
        var (values, vectors) = SymmetricEigendecomposition.Compute(kernel, checkAlive);
        // Rounding leaves tiny negative eigenvalues of a semi-definite kernel: they are zeros.
        Tensor eigenvalues = values.ClampMin(0.0);
        Tensor filter = Filter(eigenvalues, learningRate * time / n);
        Tensor alpha = vectors.mm(vectors.t().mm(targets) * filter.unsqueeze(1));
        return alpha.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// g(s) = (1 − e^{−r·s})/s with r = ηt/n, elementwise (g(0) = r), computed as r·(−expm1(−rs))/(rs), which keeps full
    /// precision for small rs.
    /// </summary>
    /// <param name="eigenvalues">s ≥ 0.</param>
    /// <param name="rate">r = ηt/n &gt; 0.</param>
    public static Tensor Filter(Tensor eigenvalues, double rate)
    {
        using var scope = torch.NewDisposeScope();
        Tensor scaled = eigenvalues.Times(rate);
        Tensor filter = torch.where(scaled.GreaterThan(0), torch.expm1(-scaled).neg() / eigenvalues, eigenvalues.FullLike(rate));
        return filter.MoveToOuterDisposeScope();
    }
}
