using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Networks;

/// <summary>The activations φ and their derivatives φ′ on tensors (differentiable, for the structured NTK).</summary>
internal static class TorchActivations
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    /// <summary>Returns φ(h) and φ′(h). Both carry autograd history when <paramref name="h"/> does.</summary>
    public static (Tensor Value, Tensor Slope) Apply(KareActivation activation, Tensor h)
    {
        switch (activation)
        {
            case KareActivation.Gelu:
            {
                // Exact GELU x·Φ(x); φ′ = Φ(x) + x·pdf(x). Written out so φ′ is differentiable (φ″ enters ∂K/∂θ).
                Tensor cdf = h.Times(InverseSqrt2).erf().Plus(1.0).Times(0.5);
                Tensor pdf = h.Squared().Times(-0.5).exp().Times(InverseSqrt2Pi);
                return (h * cdf, cdf.Plus(h * pdf));
            }
            case KareActivation.Relu:
                return (nn.functional.relu(h), h.GreaterThan(0.0).to_type(h.dtype));
            case KareActivation.Tanh:
            {
                Tensor t = h.tanh();
                return (t, t.Squared().SubtractedFrom(1.0));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }
}
