using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>Cholesky factorisation of a symmetric positive definite matrix, with a bounded jitter fallback.</summary>
internal static class CholeskyFactor
{
    /// <summary>
    /// The lower factor L of <paramref name="matrix"/> (n×n). When the factorisation fails (rounding made the matrix
    /// indefinite) adds jitter of growing size, up to 1e-6 of the mean diagonal, before giving up with an explanation.
    /// </summary>
    public static Tensor Compute(Tensor matrix, string purpose)
    {
        var (factor, info) = torch.linalg.cholesky_ex(matrix);
        using (info)
        {
            if (info.item<int>() == 0)
                return factor;
        }
        factor.Dispose();

        double meanDiagonal = matrix.diagonal().mean().item<double>();
        if (!double.IsFinite(meanDiagonal))
            throw new ArithmeticException($"The matrix for {purpose} has non-finite entries.");
        for (double jitter = 1e-12; jitter <= 1e-6; jitter *= 100)
        {
            using Tensor shifted = matrix.clone();
            shifted.diagonal().add_(jitter * Math.Max(meanDiagonal, double.Epsilon));
            var (retry, retryInfo) = torch.linalg.cholesky_ex(shifted);
            using (retryInfo)
            {
                if (retryInfo.item<int>() == 0)
                    return retry;
            }
            retry.Dispose();
        }
        throw new ArithmeticException($"The matrix for {purpose} is not positive definite, even with jitter; the kernel is numerically singular. Increase the ridge.");
    }
}
