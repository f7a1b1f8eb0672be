namespace Microsoft.ML.Kare;

/// <summary>
/// The nonlinearity of the infinite-width network whose analytic neural tangent kernel
/// <c>InfiniteWidthNtkRegressionTrainer</c> (Microsoft.ML.Kare.Trainers) uses. Both have closed-form Gaussian expectations, so the kernel
/// is exact (no sampling).
/// </summary>
public enum InfiniteWidthActivation
{
    /// <summary>Rectified linear unit, max(0, x): the arc-cosine kernels of Cho and Saul.</summary>
    Relu = 0,

    /// <summary>The error function erf(x), a smooth sigmoid with range (−1, 1).</summary>
    Erf = 1,
}
