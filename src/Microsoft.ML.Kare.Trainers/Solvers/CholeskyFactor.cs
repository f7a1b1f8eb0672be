using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>Cholesky factorisation of a symmetric positive definite matrix, with a bounded jitter fallback that is reported.</summary>
internal static class CholeskyFactor
{
    /// <summary>
    /// The lower factor L of <paramref name="matrix"/> (n×n). When the factorisation fails (rounding made the matrix
    /// indefinite) adds jitter of growing size, up to 1e-6 of the mean diagonal, and reports it through
    /// <see cref="NumericalWarnings"/>, before giving up with an explanation. For solves that can take an
    /// eigendecomposition instead, <see cref="SymmetricFactorization"/> falls back without changing the matrix.
    /// </summary>
    public static Tensor Compute(Tensor matrix, string purpose)
    {
        if (TryFactor(matrix) is Tensor factor)
            return factor;

        double meanDiagonal = matrix.diagonal().mean().ToDouble();
        if (!double.IsFinite(meanDiagonal))
            throw new ArithmeticException($"The matrix for {purpose} has non-finite entries.");
        for (double jitter = 1e-12; jitter <= 1e-6; jitter *= 100)
        {
            using Tensor shifted = matrix.clone();
            shifted.diagonal().add_(jitter * Math.Max(meanDiagonal, double.Epsilon));
            if (TryFactor(shifted) is Tensor retry)
            {
                NumericalWarnings.Report($"The matrix for {purpose} was not numerically positive definite; it was factored with {jitter:G1} of its mean diagonal added.");
                return retry;
            }
        }
        throw new ArithmeticException($"The matrix for {purpose} is not positive definite, even with jitter; the kernel is numerically singular. Increase the ridge.");
    }

    /// <summary>The lower Cholesky factor, or null when the matrix is not numerically positive definite.</summary>
    public static Tensor? TryFactor(Tensor matrix)
    {
        var (factor, info) = torch.linalg.cholesky_ex(matrix);
        using (info)
        {
            if (info.item<int>() == 0)
                return factor;
        }
        factor.Dispose();
        return null;
    }
}
