using System;
using System.Numerics;
using MathNet.Numerics;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>The activations φ and their derivatives φ′ in plain managed code (scoring needs no libtorch).</summary>
internal static class ManagedActivations
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;
    private const double Sqrt32 = 5.6568542494923801952;

    /// <summary>|x| up to which Φ(x) comes from the rational function of x² (Cody's threshold).</summary>
    private const double CentralLimit = 0.66291;

    // Cody's coefficients (SPECFUN's ANORM): Φ(x) = 1/2 + x·R_c(x²) for |x| ≤ 0.66291, Φ(−|x|) = exp(−x²/2)·R_t(|x|) up to √32,
    // each R = P/Q with P of degree m and monic Q of degree m, evaluated by Rational below.
    private static readonly double[] CentralNumerator =
        { 0.065682337918207449113, 2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249 };
    private static readonly double[] CentralDenominator =
        { 47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956 };
    private static readonly double[] TailNumerator =
    {
        1.0765576773720192317e-8, 0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
        2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
    };
    private static readonly double[] TailDenominator =
    {
        22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755, 18615.571640885098091,
        34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
    };

    /// <summary>Writes φ(h) into <paramref name="value"/> and φ′(h) into <paramref name="slope"/>.</summary>
    public static void Apply(KareActivation activation, ReadOnlySpan<double> h, Span<double> value, Span<double> slope)
    {
        switch (activation)
        {
            case KareActivation.Gelu:
                int vectorised = Vector.IsHardwareAccelerated ? GeluVectorised(h, value, slope) : 0;
                Gelu(h.Slice(vectorised), value.Slice(vectorised), slope.Slice(vectorised));
                break;
            case KareActivation.Relu:
                int done = Vector.IsHardwareAccelerated ? ReluVectorised(h, value, slope) : 0;
                for (int i = done; i < h.Length; i++)
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

    /// <summary>ReLU on whole vectors, as the scalar loop (NaN gives value 0 and slope 0 there too); returns how many values it wrote.</summary>
    private static int ReluVectorised(ReadOnlySpan<double> h, Span<double> value, Span<double> slope)
    {
        int count = Vector<double>.Count;
        int end = h.Length - h.Length % count;
        for (int i = 0; i < end; i += count)
        {
            var x = new Vector<double>(h.Slice(i, count));
            Vector<double> positive = Vector.GreaterThan(x, Vector<double>.Zero).As<long, double>();
            Vector.ConditionalSelect(positive, x, Vector<double>.Zero).CopyTo(value.Slice(i, count));
            Vector.ConditionalSelect(positive, Vector<double>.One, Vector<double>.Zero).CopyTo(slope.Slice(i, count));
        }
        return end;
    }

    /// <summary>GELU φ(x) = x·Φ(x) and φ′(x) = Φ(x) + x·φ_N(x), one value at a time.</summary>
    private static void Gelu(ReadOnlySpan<double> h, Span<double> value, Span<double> slope)
    {
        for (int i = 0; i < h.Length; i++)
        {
            double x = h[i];
            double density = Math.Exp(-0.5 * x * x); // √(2π)·φ_N(x), shared by Φ and the slope
            double cdf = NormalCdf(x, density);
            value[i] = x * cdf;
            slope[i] = cdf + x * InverseSqrt2Pi * density;
        }
    }

    /// <summary>
    /// GELU as <see cref="Gelu"/> on whole vectors (both of Cody's ranges evaluated and the right one selected per lane);
    /// a vector with a value beyond √32 or NaN goes through the scalar path. Returns how many values it wrote: the rest
    /// (fewer than a vector) is left to the caller. Same arithmetic as the scalar path except the vectorised exponential.
    /// </summary>
    private static int GeluVectorised(ReadOnlySpan<double> h, Span<double> value, Span<double> slope)
    {
        int count = Vector<double>.Count;
        int end = h.Length - h.Length % count;
        var sqrt32 = new Vector<double>(Sqrt32);
        var centralLimit = new Vector<double>(CentralLimit);
        var half = new Vector<double>(0.5);
        var one = Vector<double>.One;
        for (int i = 0; i < end; i += count)
        {
            var x = new Vector<double>(h.Slice(i, count));
            Vector<double> y = Vector.Abs(x);
            if (!Vector.LessThanOrEqualAll(y, sqrt32)) // also true for NaN
            {
                Gelu(h.Slice(i, count), value.Slice(i, count), slope.Slice(i, count));
                continue;
            }
            Vector<double> xsq = x * x;
            Vector<double> density = Vector.Exp(-half * xsq);

            Vector<double> central = half + x * Rational(xsq, CentralNumerator, CentralDenominator);
            Vector<double> tail = density * Rational(y, TailNumerator, TailDenominator);
            Vector<double> cdf = Vector.ConditionalSelect(Vector.LessThanOrEqual(y, centralLimit), central,
                Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<double>.Zero), one - tail, tail));

            (x * cdf).CopyTo(value.Slice(i, count));
            (cdf + x * new Vector<double>(InverseSqrt2Pi) * density).CopyTo(slope.Slice(i, count));
        }
        return end;
    }

    /// <summary>
    /// P(t)/Q(t) for P = p₀tᵐ + … + p_m and the monic Q = tᵐ + q₀tᵐ⁻¹ + … + q_{m−1}, in Cody's order of operations:
    /// both by Horner's rule, one multiply and one add per step, without fused multiply-adds.
    /// </summary>
    private static double Rational(double t, double[] numerator, double[] denominator)
    {
        double p = numerator[0] * t;
        double q = t;
        for (int i = 1; i < denominator.Length; i++)
        {
            p = (p + numerator[i]) * t;
            q = (q + denominator[i - 1]) * t;
        }
        return (p + numerator[^1]) / (q + denominator[^1]);
    }

    /// <summary><see cref="Rational(double, double[], double[])"/> on each lane, in the same order of operations.</summary>
    private static Vector<double> Rational(Vector<double> t, double[] numerator, double[] denominator)
    {
        Vector<double> p = new Vector<double>(numerator[0]) * t;
        Vector<double> q = t;
        for (int i = 1; i < denominator.Length; i++)
        {
            p = (p + new Vector<double>(numerator[i])) * t;
            q = (q + new Vector<double>(denominator[i - 1])) * t;
        }
        return (p + new Vector<double>(numerator[^1])) / (q + new Vector<double>(denominator[^1]));
    }

    /// <summary>
    /// The standard normal distribution function Φ(x), given <paramref name="density"/> = exp(−x²/2), by W. J. Cody's
    /// rational Chebyshev approximations (Math. Comp. 23, 1969; SPECFUN's ANORM): x·R(x²) for |x| ≤ 0.66291 and
    /// exp(−x²/2)·R(|x|) up to √32, which reuses the exponential the GELU slope needs anyway instead of a separate erf.
    /// Absolute error below 3e-16 there (checked against 40-digit arithmetic); beyond √32, where Φ or 1 − Φ is below
    /// 1e-8, it falls back to MathNet's erf.
    /// </summary>
    internal static double NormalCdf(double x, double density)
    {
        double y = Math.Abs(x);
        if (y <= CentralLimit)
            return 0.5 + x * Rational(x * x, CentralNumerator, CentralDenominator);
        if (y <= Sqrt32)
        {
            double tail = density * Rational(y, TailNumerator, TailDenominator); // Φ(−|x|)
            return x > 0 ? 1.0 - tail : tail;
        }
        return 0.5 * (1.0 + SpecialFunctions.Erf(x * InverseSqrt2)); // also NaN for NaN
    }
}
