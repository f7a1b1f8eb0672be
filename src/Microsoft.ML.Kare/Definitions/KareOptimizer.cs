namespace Microsoft.ML.Kare;

/// <summary>The optimiser that moves the network parameters θ to minimise the KARE objective.</summary>
public enum KareOptimizer
{
    /// <summary>Plain (full- or mini-batch) gradient descent, as in the KARE paper.</summary>
    Sgd = 0,

    /// <summary>Adam (Kingma and Ba), with the usual β₁ = 0.9, β₂ = 0.999.</summary>
    Adam = 1,
}
