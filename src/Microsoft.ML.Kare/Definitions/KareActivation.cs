namespace Microsoft.ML.Kare;

/// <summary>
/// The nonlinearity applied after every hidden layer of the network whose neural tangent kernel is trained.
/// </summary>
public enum KareActivation
{
    /// <summary>Gaussian error linear unit, x·Φ(x) with the exact (erf) form. Smooth, the KARE paper's choice.</summary>
    Gelu = 0,

    /// <summary>Rectified linear unit, max(0, x).</summary>
    Relu = 1,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh = 2,
}
