using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Kernel ridge regression in kernel space (docs/maths.md, "Kernel ridge regression"): f̂(x) = K(x, X)α with
/// α = (K + nλI)⁻¹Y, and its exact leave-one-out predictions, both from one factorisation of G = K + nλI.
/// Row weights w enter as K_w = S K S and Y_w = S Y with S = diag(√w); the absolute ridge λ comes from
/// <see cref="RelativeRidge"/>.
/// </summary>
internal static class KernelRidge
{
    /// <summary>
    /// Dual weights α = (K + nλI)⁻¹Y (n×c) for the kernel K (n×n) and the absolute ridge λ; a large K is factored in
    /// blocks with <paramref name="checkAlive"/> after each, when it is given.
    /// </summary>
    public static Tensor DualWeights(Tensor kernel, Tensor targets, double ridge, Action? checkAlive = null)
    {
        using var scope = torch.NewDisposeScope();
        using SymmetricFactorization factor = Factor(kernel, ridge, "kernel ridge regression", checkAlive);
        return factor.Solve(targets).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// α = (K_w + nλI)⁻¹Y_w and the exact leave-one-out predictions of every row (m×c, the units of
    /// <paramref name="targets"/>; NaN for rows of weight 0). With G = K_w + nλI, the leave-one-out residual of row i is
    /// α_i / ((G⁻¹)_ii · s_i), so the prediction for row i from the other rows is y_i − α_i / ((G⁻¹)_ii · s_i).
    /// </summary>
    /// <param name="weightedKernel">K_w = S K S (m×m).</param>
    /// <param name="targets">Y (m×c).</param>
    /// <param name="weightedTargets">Y_w = S Y (m×c).</param>
    /// <param name="weights">w (m), or null when unweighted.</param>
    /// <param name="ridge">The absolute ridge λ.</param>
    /// <param name="checkAlive">Throws when the fit is cancelled; called after each block of a large factorisation, after
    /// the factorisation and after each block of the inverse's diagonal.</param>
    /// <returns>α and the leave-one-out predictions, new tensors in the caller's dispose scope.</returns>
    public static (Tensor DualWeights, Tensor LeaveOneOut) DualWeightsAndLeaveOneOut(Tensor weightedKernel, Tensor targets, Tensor weightedTargets,
        Tensor? weights, double ridge, Action checkAlive)
    {
        using var scope = torch.NewDisposeScope();
        using SymmetricFactorization factor = Factor(weightedKernel, ridge, "kernel ridge regression", checkAlive);
        checkAlive();
        Tensor alpha = factor.Solve(weightedTargets);
        Tensor residual = alpha / factor.InverseDiagonal(checkAlive).unsqueeze(1);
        if (weights is not null)
        {
            Tensor scales = weights.sqrt().unsqueeze(1);
            residual = torch.where(scales.GreaterThan(0), residual / scales, residual.FullLike(double.NaN));
        }
        return (alpha.MoveToOuterDisposeScope(), (targets - residual).MoveToOuterDisposeScope());
    }

    private static SymmetricFactorization Factor(Tensor kernel, double ridge, string purpose, Action? checkAlive)
    {
        long n = kernel.shape[0];
        using Tensor shifted = kernel.clone();
        shifted.diagonal().AddInPlace(n * ridge);
        return SymmetricFactorization.Factor(shifted, purpose, checkAlive);
    }
}
