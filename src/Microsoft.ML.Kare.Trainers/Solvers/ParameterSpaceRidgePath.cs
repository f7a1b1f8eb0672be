using System;
using System.Collections.Generic;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Kernel ridge regression with K = JJᵀ over a whole grid of ridges from one eigendecomposition of the P×P Gram matrix
/// JᵀJ = V diag(s) Vᵀ (docs/maths.md, "KARE in parameter space"): β(λ) = V diag(1/(s + nλ)) VᵀJᵀY, so each λ costs a
/// diagonal rescaling, as <see cref="SpectralRidgePath"/> does with the n×n kernel. The nonzero eigenvalues of K are
/// the s, and K's other n − P eigenvalues are zero, which gives GCV without K.
/// </summary>
internal sealed class ParameterSpaceRidgePath : IDisposable
{
    private readonly Tensor _eigenvalues;      // s, length P, clamped at 0
    private readonly Tensor _eigenvectors;     // V, P×P
    private readonly Tensor _projectedMoments; // VᵀJᵀY, P×c
    private readonly double _targetEnergy;     // ‖Y‖²_F
    private readonly double _trace;            // Tr(JᵀJ) = Tr K
    private readonly long _rows;
    private readonly long _outputs;

    /// <summary>Eigenvalues of JᵀJ below this fraction of the largest count as zeros of K in GCV.</summary>
    private const double NullEigenvalueTolerance = 1e-12;

    /// <param name="gram">JᵀJ (P×P), not modified.</param>
    /// <param name="moments">JᵀY (P×c).</param>
    /// <param name="targetEnergy">‖Y‖²_F.</param>
    /// <param name="rows">n, the rows J and Y hold.</param>
    /// <param name="checkAlive">Throws when the fit is cancelled, checked while a large JᵀJ is decomposed; or null.</param>
    public ParameterSpaceRidgePath(Tensor gram, Tensor moments, double targetEnergy, long rows, Action? checkAlive = null)
    {
        _rows = rows;
        _outputs = moments.shape[1];
        _targetEnergy = targetEnergy;
        _trace = gram.trace().item<double>();
        RelativeRidge.ToAbsolute(1.0, _trace, rows); // checks the trace
        using var scope = torch.NewDisposeScope();
        var (values, vectors) = SymmetricEigendecomposition.Compute(gram, checkAlive);
        _eigenvalues = values.ClampMin(0.0).DetachFromDisposeScope();
        _eigenvectors = vectors.DetachFromDisposeScope();
        _projectedMoments = vectors.t().mm(moments).DetachFromDisposeScope();
    }

    /// <summary>The absolute ridge λ of a relative ridge λ̃ for this kernel (<see cref="RelativeRidge"/>).</summary>
    public double AbsoluteRidge(double relativeRidge) => RelativeRidge.ToAbsolute(relativeRidge, _trace, _rows);

    /// <summary>
    /// Weighted mean squared error on held-out rows at each relative ridge: predictions J_v β(λ) =
    /// J_v V diag(1/(s + nλ)) VᵀJᵀY (<see cref="EigenbasisHeldOutError"/>).
    /// </summary>
    /// <param name="validationRows">J_v, the held-out rows' features (v×P, unweighted).</param>
    /// <param name="validationTargets">Y_v, v×c.</param>
    /// <param name="validationWeights">Row weights (length v) or null.</param>
    /// <param name="relativeRidges">The grid of relative ridges λ̃.</param>
    public double[] ValidationError(Tensor validationRows, Tensor validationTargets, Tensor? validationWeights, IReadOnlyList<double> relativeRidges)
        => EigenbasisHeldOutError.Compute(validationRows, _eigenvectors, _eigenvalues, _projectedMoments, RelativeRidge.Shifts(relativeRidges, _trace, _rows),
                                          validationTargets, validationWeights);

    /// <summary>
    /// GCV (= KARE ρ) at each relative ridge, with K's eigenvalues s (and n − P zeros): the energy of Y along the
    /// eigenvector u_k = Jv_k/√s_k is ‖(VᵀJᵀY)_k‖²/s_k, and the rest of ‖Y‖² lies in K's null space.
    /// </summary>
    public double[] GeneralizedCrossValidation(IReadOnlyList<double> relativeRidges)
    {
        using var scope = torch.NewDisposeScope();
        // Eigenvalues at rounding level carry no measurable energy (VᵀJᵀY is rounding there too): count them as zeros.
        Tensor positive = _eigenvalues.GreaterThan(NullEigenvalueTolerance * _eigenvalues.max().item<double>());
        Tensor energy = torch.where(positive, _projectedMoments.Squared().sum(dim: 1) / _eigenvalues.ClampMin(double.Epsilon), torch.zeros_like(_eigenvalues));
        Tensor eigenvalues = torch.where(positive, _eigenvalues, torch.zeros_like(_eigenvalues));
        double nullEnergy = Math.Max(0, _targetEnergy - energy.sum().item<double>());
        double n = _rows;
        long p = _eigenvalues.shape[0];
        if (p > _rows)
            throw new InvalidOperationException($"GCV in parameter space needs at least as many rows as parameters ({_rows} rows, {p} parameters).");
        var result = new double[relativeRidges.Count];
        for (int i = 0; i < result.Length; i++)
        {
            // Over all n eigenvalues of K: the P of JᵀJ, whose zeros weigh 1/λ like K's other n − P zeros.
            double ridge = AbsoluteRidge(relativeRidges[i]);
            Tensor inverse = eigenvalues.DividedBy(n).Plus(ridge).reciprocal();
            double numerator = ((energy * inverse.Squared()).sum().item<double>() + nullEnergy / (ridge * ridge)) / (n * _outputs);
            double denominator = (inverse.sum().item<double>() + (_rows - p) / ridge) / n;
            result[i] = numerator / (denominator * denominator);
        }
        return result;
    }

    public void Dispose()
    {
        _eigenvalues.Dispose();
        _eigenvectors.Dispose();
        _projectedMoments.Dispose();
    }
}
