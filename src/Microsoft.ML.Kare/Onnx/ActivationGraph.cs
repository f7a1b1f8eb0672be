using System;

namespace Microsoft.ML.Kare.Onnx;

/// <summary>
/// The activations φ and their derivatives φ′ as ONNX operators, element-wise on a float tensor: the same functions as
/// the managed scorer's (Scoring/ManagedActivations.cs), in float32.
/// </summary>
internal static class ActivationGraph
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    /// <summary>φ(h) alone.</summary>
    public static string Value(OnnxGraph graph, KareActivation activation, string h) => ValueAndSlope(graph, activation, h, slope: false).Value;

    /// <summary>φ(h) and φ′(h).</summary>
    public static (string Value, string Slope) ValueAndSlope(OnnxGraph graph, KareActivation activation, string h)
        => ValueAndSlope(graph, activation, h, slope: true)!;

    private static (string Value, string? Slope) ValueAndSlope(OnnxGraph graph, KareActivation activation, string h, bool slope)
    {
        switch (activation)
        {
            case KareActivation.Gelu:
            {
                // The exact GELU, φ(x) = x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2, and φ′(x) = Φ(x) + x·exp(−x²/2)/√(2π).
                string erf = graph.Apply("Erf", graph.Apply("Mul", h, graph.Constant("KareInverseSqrt2", InverseSqrt2)));
                string cdf = graph.Apply("Mul", graph.Apply("Add", erf, graph.Constant("KareOne", 1)), graph.Constant("KareHalf", 0.5));
                string value = graph.Apply("Mul", h, cdf);
                if (!slope)
                    return (value, null);
                string density = graph.Apply("Exp", graph.Apply("Mul", graph.Apply("Mul", h, h), graph.Constant("KareMinusHalf", -0.5)));
                string scaled = graph.Apply("Mul", density, graph.Constant("KareInverseSqrt2Pi", InverseSqrt2Pi));
                return (value, graph.Apply("Add", cdf, graph.Apply("Mul", h, scaled)));
            }
            case KareActivation.Relu:
            {
                // φ′ is 1 where h > 0 and 0 elsewhere (also at 0, as autograd and the managed scorer have it).
                string value = graph.Apply("Relu", h);
                return (value, slope ? graph.Cast(graph.Apply("Greater", h, graph.Constant("KareZero", 0)), typeof(float)) : null);
            }
            case KareActivation.Tanh:
            {
                string value = graph.Apply("Tanh", h);
                return (value, slope ? graph.Apply("Sub", graph.Constant("KareOne", 1), graph.Apply("Mul", value, value)) : null);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }
}
