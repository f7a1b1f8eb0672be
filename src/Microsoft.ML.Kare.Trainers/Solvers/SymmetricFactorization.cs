using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Solves with a symmetric positive definite matrix G (a kernel or Gram matrix plus a positive ridge): by its Cholesky
/// factor, or, when rounding makes G numerically indefinite, by its eigendecomposition G = V diag(s) Vᵀ with the
/// eigenvalues floored at a tiny positive value (reported through <see cref="NumericalWarnings"/>). The eigenvalues of
/// G are at least the ridge in exact arithmetic, so the floor only replaces rounding noise.
/// </summary>
internal sealed class SymmetricFactorization : IDisposable
{
    /// <summary>Eigenvalues are floored at this fraction of the largest one.</summary>
    internal const double RelativeEigenvalueFloor = 1e-15;

    private readonly Tensor? _cholesky;   // L, G = L Lᵀ
    private readonly Tensor? _vectors;    // V
    private readonly Tensor? _inverseValues; // 1/s

    private SymmetricFactorization(Tensor? cholesky, Tensor? vectors, Tensor? inverseValues)
    {
        _cholesky = cholesky;
        _vectors = vectors;
        _inverseValues = inverseValues;
    }

    /// <summary>True when the eigendecomposition fallback was taken.</summary>
    public bool IsEigenFallback => _cholesky is null;

    /// <summary>
    /// Factors <paramref name="matrix"/> (n×n, not modified); <paramref name="purpose"/> names it in messages. The
    /// factorisation owns its tensors (outside any dispose scope) until it is disposed. With <paramref name="checkAlive"/>
    /// a large matrix is factored in blocks with a cancellation check after each (<see cref="CholeskyFactor.TryFactor(Tensor, Action?)"/>),
    /// and the eigendecomposition fallback can be cancelled while it runs (<see cref="SymmetricEigendecomposition"/>).
    /// </summary>
    public static SymmetricFactorization Factor(Tensor matrix, string purpose, Action? checkAlive = null)
    {
        using var scope = torch.NewDisposeScope();
        if (CholeskyFactor.TryFactor(matrix, checkAlive) is Tensor factor)
            return new SymmetricFactorization(factor.DetachFromDisposeScope(), null, null);
        if (!double.IsFinite(matrix.sum().item<double>()))
            throw new ArithmeticException($"The matrix for {purpose} has non-finite entries.");
        var (values, vectors) = SymmetricEigendecomposition.Compute(matrix, checkAlive);
        double floor = RelativeEigenvalueFloor * Math.Max(values.max().item<double>(), double.Epsilon);
        Tensor inverse = values.ClampMin(floor).reciprocal();
        NumericalWarnings.Report($"The matrix for {purpose} was not numerically positive definite; it was solved through its eigendecomposition instead of a Cholesky factor.");
        return new SymmetricFactorization(null, vectors.DetachFromDisposeScope(), inverse.DetachFromDisposeScope());
    }

    /// <summary>G⁻¹B for the right-hand sides B (n×c); a new tensor in the caller's dispose scope.</summary>
    public Tensor Solve(Tensor rightHandSides)
    {
        if (_cholesky is not null)
            return rightHandSides.cholesky_solve(_cholesky);
        using var scope = torch.NewDisposeScope();
        return _vectors!.mm(_vectors!.t().mm(rightHandSides) * _inverseValues!.unsqueeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The diagonal of G⁻¹ (length n); a new tensor in the caller's dispose scope. From the Cholesky factor it is solved
    /// by column blocks of L⁻¹ (<see cref="CholeskyFactor.InverseDiagonal"/>), calling <paramref name="checkAlive"/>
    /// after each.
    /// </summary>
    public Tensor InverseDiagonal(Action checkAlive)
    {
        if (_cholesky is not null)
            return CholeskyFactor.InverseDiagonal(_cholesky, checkAlive);
        return (_vectors!.Squared() * _inverseValues!.unsqueeze(0)).sum(dim: 1);
    }

    /// <summary>bᵢᵀG⁻¹bᵢ for each row bᵢ of <paramref name="rows"/> (b×n): the leverages when G is a Gram matrix plus a ridge.</summary>
    public Tensor QuadraticForms(Tensor rows)
    {
        using var scope = torch.NewDisposeScope();
        Tensor solved = Solve(rows.t()); // n×b
        return (rows * solved.t()).sum(dim: 1).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _cholesky?.Dispose();
        _vectors?.Dispose();
        _inverseValues?.Dispose();
    }
}
