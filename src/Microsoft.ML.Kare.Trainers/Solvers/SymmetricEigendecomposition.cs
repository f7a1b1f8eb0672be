using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The eigendecomposition A = V diag(s) Vᵀ of a symmetric matrix (libtorch's <c>linalg.eigh</c>: eigenvalues ascending,
/// orthonormal columns of V). It is one LAPACK call that cannot stop part-way, about 8 s at 3,680 rows on 2 cores, so a
/// large matrix with a cancellation check runs through <see cref="CancellableNativeCall"/>: the fit can be cancelled
/// while it runs, and the values are the same as the direct call's.
/// </summary>
internal static class SymmetricEigendecomposition
{
    /// <summary>Rows up to which the call runs directly (well under a second).</summary>
    internal const long DirectMaximumRows = 1024;

    /// <summary>The eigenvalues s (ascending) and eigenvectors V of <paramref name="matrix"/>, new tensors in the caller's dispose scope.</summary>
    /// <param name="matrix">A (n×n), symmetric; not modified.</param>
    /// <param name="checkAlive">Throws when the fit is cancelled; null runs the call directly.</param>
    /// <param name="directMaximumRows">Rows up to which the call runs directly (tests lower it).</param>
    public static (Tensor Values, Tensor Vectors) Compute(Tensor matrix, Action? checkAlive, long directMaximumRows = DirectMaximumRows)
    {
        if (checkAlive is null || matrix.shape[0] <= directMaximumRows)
            return torch.linalg.eigh(matrix);
        checkAlive();
        return CancellableNativeCall.Run(matrix, m => torch.linalg.eigh(m), checkAlive);
    }
}
