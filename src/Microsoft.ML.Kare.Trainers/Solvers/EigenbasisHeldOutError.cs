using System;
using System.Collections.Generic;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The held-out error of ridge regression at every shift of a grid, from one eigendecomposition G = V diag(s) Vᵀ of the
/// training side (the n×n kernel, or the P×P Gram matrix JᵀJ): predictions C V diag(1/(s + shift)) VᵀY, where C is the
/// held-out rows' cross-kernel (or Jacobian rows). Two orders give the same predictions: project the held-out rows once,
/// CV (2vm² for v held-out rows and m eigenvectors), then rescale per shift; or form the coefficients
/// V diag(1/(s + shift)) VᵀY per shift (2m²c each) and multiply by C. The second is cheaper when many rows are held out
/// (docs/maths.md, "Choosing the epoch and the ridge").
/// </summary>
internal static class EigenbasisHeldOutError
{
    /// <summary>
    /// True when the coefficients are formed per shift: when at least as many rows are held out as there are
    /// eigenvectors (the projection CV would then cost at least 2m³, a quarter of the eigendecomposition or more) and
    /// more than the shifts × outputs. With fewer held-out rows the projection is the cheaper order, or too small to matter.
    /// </summary>
    public static bool CoefficientsFirst(long validationRows, long eigenvectors, long outputs, int shifts)
        => validationRows >= eigenvectors && validationRows > (long)shifts * outputs;

    /// <summary>Floating-point operations beyond the eigendecomposition and C itself (for the fitter's path choice).</summary>
    public static double Flops(double validationRows, double eigenvectors, double outputs, int shifts)
    {
        double predictionFlops = 2 * validationRows * eigenvectors * outputs * shifts;
        return CoefficientsFirst((long)validationRows, (long)eigenvectors, (long)outputs, shifts)
            ? 2 * eigenvectors * eigenvectors * outputs * shifts + predictionFlops
            : 2 * validationRows * eigenvectors * eigenvectors + predictionFlops;
    }

    /// <summary>Weighted mean squared error of the held-out predictions at each shift (same order as <paramref name="shifts"/>).</summary>
    /// <param name="cross">C, v×m: the held-out rows against the training side.</param>
    /// <param name="eigenvectors">V, m×m.</param>
    /// <param name="eigenvalues">s, length m.</param>
    /// <param name="projectedTargets">VᵀY (or VᵀJᵀY in parameter space), m×c.</param>
    /// <param name="shifts">The added diagonal per grid point (nλ).</param>
    /// <param name="validationTargets">Y_v, v×c.</param>
    /// <param name="validationWeights">Row weights (length v) or null.</param>
    public static double[] Compute(Tensor cross, Tensor eigenvectors, Tensor eigenvalues, Tensor projectedTargets, IReadOnlyList<double> shifts,
                                   Tensor validationTargets, Tensor? validationWeights)
    {
        using var scope = torch.NewDisposeScope();
        long outputs = projectedTargets.shape[1];
        bool coefficientsFirst = CoefficientsFirst(cross.shape[0], eigenvectors.shape[1], outputs, shifts.Count);
        Tensor? projected = coefficientsFirst ? null : cross.mm(eigenvectors);
        double totalWeight = validationWeights is null ? cross.shape[0] : validationWeights.sum().item<double>();
        var result = new double[shifts.Count];
        for (int i = 0; i < result.Length; i++)
        {
            Tensor filtered = projectedTargets * eigenvalues.Plus(shifts[i]).reciprocal().unsqueeze(1);
            Tensor predictions = projected is null ? cross.mm(eigenvectors.mm(filtered)) : projected.mm(filtered);
            Tensor squared = (predictions - validationTargets).Squared().sum(dim: 1);
            if (validationWeights is not null)
                squared = squared * validationWeights;
            result[i] = squared.sum().item<double>() / (totalWeight * outputs);
        }
        return result;
    }
}
