using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Kernel ridge regression with K = J Jᵀ solved in parameter space (kare.md §5), for when n×n does not fit but P×P does:
/// β = (JᵀJ + nλI)⁻¹ Jᵀy equals Jᵀ(K + nλI)⁻¹y, and λ = λ̃·Tr(K)/n² with Tr(K) = Tr(JᵀJ). JᵀJ and Jᵀy are accumulated
/// over blocks of rows, so memory is O(P² + block·P).
/// </summary>
internal sealed class ParameterSpaceRidge : IDisposable
{
    private readonly Tensor _gram;     // Σ JᵀJ, P×P
    private readonly Tensor _moments;  // Σ JᵀY, P×c
    private long _rows;
    private Tensor? _factor;           // Cholesky factor of JᵀJ + nλI once solved
    private Tensor? _weights;          // β, P×c

    public ParameterSpaceRidge(long parameterCount, long outputCount)
    {
        _gram = torch.zeros(parameterCount, parameterCount, ScalarType.Float64);
        _moments = torch.zeros(parameterCount, outputCount, ScalarType.Float64);
    }

    /// <summary>Adds a block of Jacobian rows J_b (b×P) and their targets Y_b (b×c).</summary>
    public void Accumulate(Tensor jacobianRows, Tensor targets)
    {
        _gram.addmm_(jacobianRows.t(), jacobianRows);
        _moments.addmm_(jacobianRows.t(), targets);
        _rows += jacobianRows.shape[0];
    }

    /// <summary>Solves for β at the relative ridge λ̃; returns β (P×c, owned by this object) and the absolute λ.</summary>
    public (Tensor Weights, double Ridge) Solve(double relativeRidge)
    {
        double trace = _gram.trace().item<double>();
        double ridge = relativeRidge * trace / ((double)_rows * _rows);
        if (!(ridge > 0) || !double.IsFinite(ridge))
            throw new ArithmeticException($"The kernel's trace is {trace}; kernel ridge regression needs a positive finite trace.");
        using var scope = torch.NewDisposeScope();
        Tensor shifted = _gram.clone();
        shifted.diagonal().add_(_rows * ridge);
        _factor?.Dispose();
        _weights?.Dispose();
        _factor = CholeskyFactor.Compute(shifted, "kernel ridge regression in parameter space").MoveToOuterDisposeScope();
        _weights = _moments.cholesky_solve(_factor).MoveToOuterDisposeScope();
        return (_weights, ridge);
    }

    /// <summary>
    /// Leverages h_i = j_iᵀ(JᵀJ + nλI)⁻¹j_i of a block of rows (after <see cref="Solve"/>): the diagonal of the hat matrix
    /// K(K + nλI)⁻¹, which gives exact leave-one-out residuals (y_i − ŷ_i)/(1 − h_i).
    /// </summary>
    public Tensor Leverages(Tensor jacobianRows)
    {
        if (_factor is null)
            throw new InvalidOperationException("Solve first.");
        Tensor solved = jacobianRows.t().cholesky_solve(_factor); // P×b
        return (jacobianRows * solved.t()).sum(dim: 1);
    }

    public void Dispose()
    {
        _gram.Dispose();
        _moments.Dispose();
        _factor?.Dispose();
        _weights?.Dispose();
    }
}
