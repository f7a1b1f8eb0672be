using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Kernel ridge regression (kare.md §2): f̂(x) = K(x, X)(K + nλI)⁻¹ y, i.e. (1/n)K(x, X)(K/n + λI)⁻¹ y.
/// The ridge is given relative to the kernel's size, λ = λ̃·Tr(K)/n².
/// </summary>
internal static class KernelRidge
{
    /// <summary>Dual weights α = (K + nλI)⁻¹Y (n×c) for kernel K (n×n) and the absolute ridge λ.</summary>
    public static Tensor DualWeights(Tensor kernel, Tensor targets, double ridge)
    {
        long n = kernel.shape[0];
        using var scope = torch.NewDisposeScope();
        Tensor shifted = kernel.clone();
        shifted.diagonal().add_(n * ridge);
        Tensor factor = CholeskyFactor.Compute(shifted, "kernel ridge regression");
        return targets.cholesky_solve(factor).MoveToOuterDisposeScope();
    }

    /// <summary>The absolute ridge λ = λ̃·Tr(K)/n² for a relative ridge λ̃.</summary>
    public static double AbsoluteRidge(Tensor kernel, double relativeRidge)
        => KareObjective.RidgeFor(kernel, relativeRidge);
}
