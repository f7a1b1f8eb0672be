using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Kernel ridge regression over a whole grid of ridges from one eigendecomposition K = V diag(s) Vᵀ (docs/maths.md,
/// "Choosing the epoch and the ridge"):
/// (K + nλI)⁻¹ = V diag(1/(s + nλ)) Vᵀ, so each λ costs a diagonal rescaling. Used to pick λ by hold-out error or by
/// generalised cross-validation (GCV, equal to the KARE ρ at that λ).
/// </summary>
internal sealed class SpectralRidgePath : IDisposable
{
    private readonly Tensor _eigenvalues;   // s, length n, clamped at 0
    private readonly Tensor _projectedTargets; // Vᵀ Y, n×c
    private readonly Tensor _eigenvectors;  // V, n×n
    private readonly long _n;
    private readonly long _outputs;

    /// <param name="kernel">K (n×n), symmetric, detached.</param>
    /// <param name="targets">Y (n×c).</param>
    /// <param name="checkAlive">Throws when the fit is cancelled, checked while a large kernel is decomposed; or null.</param>
    public SpectralRidgePath(Tensor kernel, Tensor targets, Action? checkAlive = null)
    {
        _n = kernel.shape[0];
        _outputs = targets.shape[1];
        _trace = kernel.trace().item<double>();
        RelativeRidge.ToAbsolute(1.0, _trace, _n); // checks the trace
        var (values, vectors) = SymmetricEigendecomposition.Compute(kernel, checkAlive);
        _eigenvalues = values.ClampMin(0.0);
        values.Dispose();
        _eigenvectors = vectors;
        _projectedTargets = vectors.t().mm(targets);
    }

    private readonly double _trace;

    /// <summary>The absolute ridge λ of a relative ridge λ̃ for this kernel (<see cref="RelativeRidge"/>).</summary>
    public double AbsoluteRidge(double relativeRidge) => RelativeRidge.ToAbsolute(relativeRidge, _trace, _n);

    /// <summary>
    /// GCV (= KARE ρ) at each relative ridge: ρ = [Σ_i ‖(VᵀY)_i‖²/(s_i/n + λ)² /(n·c)] / [Σ_i 1/(s_i/n + λ) / n]².
    /// </summary>
    public double[] GeneralizedCrossValidation(IReadOnlyList<double> relativeRidges)
    {
        using var scope = torch.NewDisposeScope();
        Tensor energy = _projectedTargets.Squared().sum(dim: 1);
        var result = new double[relativeRidges.Count];
        for (int i = 0; i < result.Length; i++)
        {
            Tensor inverse = _eigenvalues.DividedBy(_n).Plus(AbsoluteRidge(relativeRidges[i])).reciprocal();
            double numerator = (energy * inverse.Squared()).sum().item<double>() / (_n * _outputs);
            double denominator = inverse.sum().item<double>() / _n;
            result[i] = numerator / (denominator * denominator);
        }
        return result;
    }

    /// <summary>
    /// Weighted mean squared error on held-out rows at each relative ridge. Predictions are
    /// K(X_v, X)(K + nλI)⁻¹Y = K(X_v, X) V diag(1/(s + nλ)) VᵀY (<see cref="EigenbasisHeldOutError"/>).
    /// </summary>
    /// <param name="crossKernel">K(X_v, X), v×n.</param>
    /// <param name="validationTargets">Y_v, v×c.</param>
    /// <param name="validationWeights">Row weights (length v) or null.</param>
    /// <param name="relativeRidges">The grid of relative ridges λ̃.</param>
    public double[] ValidationError(Tensor crossKernel, Tensor validationTargets, Tensor? validationWeights, IReadOnlyList<double> relativeRidges)
        => EigenbasisHeldOutError.Compute(crossKernel, _eigenvectors, _eigenvalues, _projectedTargets, RelativeRidge.Shifts(relativeRidges, _trace, _n),
                                          validationTargets, validationWeights);

    public void Dispose()
    {
        _eigenvalues.Dispose();
        _eigenvectors.Dispose();
        _projectedTargets.Dispose();
    }
}
