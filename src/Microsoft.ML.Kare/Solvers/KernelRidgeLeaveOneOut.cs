using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Exact leave-one-out predictions of (weighted) kernel ridge regression for a fixed kernel and ridge (kare.md §2).
/// With G = K_w + nλI, α = G⁻¹Y_w and row scales s = √w, the leave-one-out residual of row i is
/// α_i / ((G⁻¹)_ii · s_i), so the prediction for row i from the other rows is y_i − α_i / ((G⁻¹)_ii · s_i).
/// </summary>
/// <remarks>Used to calibrate classifiers' scores on predictions that did not see their own row. Costs one Cholesky
/// factorisation and one inverse from it (about n³ flops).</remarks>
internal static class KernelRidgeLeaveOneOut
{
    /// <summary>
    /// Leave-one-out predictions (m×c, the units of <paramref name="targets"/>); rows whose weight is 0 get NaN.
    /// </summary>
    /// <param name="weightedKernel">K_w = S K S (m×m).</param>
    /// <param name="targets">Y (m×c).</param>
    /// <param name="weightedTargets">Y_w = S Y (m×c).</param>
    /// <param name="weights">w (m), or null when unweighted.</param>
    /// <param name="ridge">The absolute ridge λ.</param>
    public static Tensor Predictions(Tensor weightedKernel, Tensor targets, Tensor weightedTargets, Tensor? weights, double ridge)
    {
        long n = weightedKernel.shape[0];
        using var scope = torch.NewDisposeScope();
        Tensor shifted = weightedKernel.clone();
        shifted.diagonal().add_(n * ridge);
        Tensor factor = CholeskyFactor.Compute(shifted, "leave-one-out predictions");
        Tensor alpha = weightedTargets.cholesky_solve(factor);
        Tensor inverseDiagonal = torch.cholesky_inverse(factor).diagonal();
        Tensor residual = alpha / inverseDiagonal.unsqueeze(1);
        if (weights is not null)
        {
            Tensor scales = weights.sqrt().unsqueeze(1);
            residual = torch.where(scales > 0, residual / scales, torch.full_like(residual, double.NaN));
        }
        return (targets - residual).MoveToOuterDisposeScope();
    }
}
