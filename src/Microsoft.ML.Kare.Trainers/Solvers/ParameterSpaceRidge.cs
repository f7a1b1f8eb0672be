using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Ridge regression on explicit features J (n×P), solved in parameter space (docs/maths.md, "Primal form"):
/// β = (JᵀJ + nλI)⁻¹JᵀY, which equals Jᵀ(K + nλI)⁻¹Y for the kernel K = JJᵀ, so it is kernel ridge regression with K
/// for when n×n does not fit (or costs more) and P×P does. JᵀJ and JᵀY are accumulated over blocks of rows, so memory
/// is O(P² + block·P). The relative ridge maps to λ through <see cref="RelativeRidge"/> with Tr(K) = Tr(JᵀJ).
/// </summary>
internal sealed class ParameterSpaceRidge : IDisposable
{
    private readonly Tensor _gram;     // Σ JᵀJ, P×P
    private readonly Tensor _moments;  // Σ JᵀY, P×c
    private long _rows;
    private SymmetricFactorization? _factor; // of JᵀJ + nλI once solved
    private Tensor? _weights;          // β, P×c

    public ParameterSpaceRidge(long parameterCount, long outputCount)
    {
        _gram = torch.zeros(parameterCount, parameterCount, ScalarType.Float64);
        _moments = torch.zeros(parameterCount, outputCount, ScalarType.Float64);
    }

    /// <summary>Rows accumulated so far (n).</summary>
    public long RowCount => _rows;

    /// <summary>Adds a block of feature rows J_b (b×P) and their targets Y_b (b×c).</summary>
    public void Accumulate(Tensor jacobianRows, Tensor targets)
    {
        _gram.addmm_(jacobianRows.t(), jacobianRows);
        _moments.addmm_(jacobianRows.t(), targets);
        _rows += jacobianRows.shape[0];
    }

    /// <summary>True when every entry of JᵀJ is finite (its sum is then finite too, barring overflow, which also counts as divergence).</summary>
    public bool IsFinite
    {
        get
        {
            using Tensor sum = _gram.sum();
            return double.IsFinite(sum.item<double>());
        }
    }

    /// <summary>
    /// The ridge path of the accumulated rows at every λ̃ from one eigendecomposition of JᵀJ (which this object keeps):
    /// <paramref name="targetEnergy"/> is ‖Y‖²_F of the same rows.
    /// </summary>
    public ParameterSpaceRidgePath RidgePath(double targetEnergy, Action? checkAlive = null)
        => new(_gram, _moments, targetEnergy, _rows, checkAlive);

    /// <summary>
    /// Solves for β at the relative ridge λ̃; returns β (P×c, owned by this object) and the absolute λ. A large P×P system
    /// is factored in blocks with <paramref name="checkAlive"/> after each, when it is given.
    /// </summary>
    public (Tensor Weights, double Ridge) Solve(double relativeRidge, Action? checkAlive = null)
    {
        double ridge = RelativeRidge.ToAbsolute(relativeRidge, _gram.trace().item<double>(), _rows);
        return (SolveAbsolute(ridge, checkAlive), ridge);
    }

    /// <summary>Solves for β at the absolute ridge λ: (JᵀJ + nλI)β = JᵀY. Returns β (P×c, owned by this object).</summary>
    public Tensor SolveAbsolute(double ridge, Action? checkAlive = null)
    {
        _factor?.Dispose();
        _weights?.Dispose();
        using (Tensor shifted = _gram.clone())
        {
            shifted.diagonal().AddInPlace(_rows * ridge);
            _factor = SymmetricFactorization.Factor(shifted, "ridge regression in parameter space", checkAlive);
        }
        using var scope = torch.NewDisposeScope();
        _weights = _factor.Solve(_moments).DetachFromDisposeScope();
        return _weights;
    }

    /// <summary>
    /// Leverages h_i = j_iᵀ(JᵀJ + nλI)⁻¹j_i of a block of rows (after <see cref="Solve"/>): the diagonal of the hat matrix
    /// K(K + nλI)⁻¹, which gives exact leave-one-out residuals (y_i − ŷ_i)/(1 − h_i).
    /// </summary>
    public Tensor Leverages(Tensor jacobianRows)
    {
        if (_factor is null)
            throw new InvalidOperationException("Solve first.");
        return _factor.QuadraticForms(jacobianRows);
    }

    public void Dispose()
    {
        _gram.Dispose();
        _moments.Dispose();
        _factor?.Dispose();
        _weights?.Dispose();
    }
}
