using System;
using MathNet.Numerics;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>The activations φ and their derivatives φ′ in plain managed code (scoring needs no libtorch).</summary>
internal static class ManagedActivations
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    /// <summary>Writes φ(h) into <paramref name="value"/> and φ′(h) into <paramref name="slope"/>.</summary>
    public static void Apply(KareActivation activation, ReadOnlySpan<double> h, Span<double> value, Span<double> slope)
    {
        switch (activation)
        {
            case KareActivation.Gelu:
                for (int i = 0; i < h.Length; i++)
                {
                    double x = h[i];
                    double cdf = 0.5 * (1.0 + SpecialFunctions.Erf(x * InverseSqrt2));
                    value[i] = x * cdf;
                    slope[i] = cdf + x * InverseSqrt2Pi * Math.Exp(-0.5 * x * x);
                }
                break;
            case KareActivation.Relu:
                for (int i = 0; i < h.Length; i++)
                {
                    double x = h[i];
                    value[i] = x > 0 ? x : 0;
                    slope[i] = x > 0 ? 1 : 0;
                }
                break;
            case KareActivation.Tanh:
                for (int i = 0; i < h.Length; i++)
                {
                    double t = Math.Tanh(h[i]);
                    value[i] = t;
                    slope[i] = 1 - t * t;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }
}
