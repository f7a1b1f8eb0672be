using System;
using MathNet.Numerics;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// The primal scorer as it was before the scoring-speed work (row-major dot products, MathNet's erf, one pass per
/// output), kept here unchanged so that <see cref="ScoringBenchmark"/> reports before/after speed and the largest
/// difference between the two in one run. Not used by the library.
/// </summary>
internal sealed class ReferencePrimalScorer
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    private readonly KareNetworkArchitecture _architecture;
    private readonly double[] _parameters;
    private readonly double[] _primalWeights;
    private readonly double[] _featureMeans;
    private readonly double[] _featureScales;
    private readonly double[] _targetMeans;
    private readonly double[] _targetScales;
    private readonly double[] _compressionScales;
    private readonly int _maxWidth;

    public ReferencePrimalScorer(KareNetworkArchitecture architecture, double[] parameters, double[] primalWeights,
        double[] featureMeans, double[] featureScales, double[] targetMeans, double[] targetScales, double[]? compressionScales = null)
    {
        _compressionScales = compressionScales ?? new double[architecture.InputCount];
        _architecture = architecture;
        _parameters = parameters;
        _primalWeights = primalWeights;
        _featureMeans = featureMeans;
        _featureScales = featureScales;
        _targetMeans = targetMeans;
        _targetScales = targetScales;
        int maxWidth = architecture.InputCount;
        foreach (int width in architecture.HiddenWidths)
            maxWidth = Math.Max(maxWidth, width);
        _maxWidth = maxWidth;
    }

    public void Score(ReadOnlySpan<float> features, Span<float> output)
    {
        int w = _maxWidth;
        Span<double> scratch = w * 5 <= 4096 ? stackalloc double[w * 5] : new double[w * 5];
        Span<double> a = scratch.Slice(0, w);
        Span<double> da = scratch.Slice(w, w);
        Span<double> h = scratch.Slice(2 * w, w);
        Span<double> dh = scratch.Slice(3 * w, w);
        Span<double> slope = scratch.Slice(4 * w, w);

        int d = _architecture.InputCount;
        for (int k = 0; k < _targetMeans.Length; k++)
        {
            ReadOnlySpan<double> beta = _primalWeights.AsSpan((int)(k * _architecture.ParameterCount), (int)_architecture.ParameterCount);
            for (int j = 0; j < d; j++)
                a[j] = (FeatureCompression.Apply(features[j], _compressionScales[j]) - _featureMeans[j]) / _featureScales[j];
            da.Slice(0, d).Clear();

            int inputs = d;
            bool inputIsConstant = true;
            for (int layer = 0; layer < _architecture.Depth; layer++)
            {
                int width = _architecture.HiddenWidths[layer];
                int wOffset = (int)_architecture.WeightOffset(layer);
                int bOffset = (int)_architecture.BiasOffset(layer);
                for (int r = 0; r < width; r++)
                {
                    ReadOnlySpan<double> wRow = _parameters.AsSpan(wOffset + r * inputs, inputs);
                    ReadOnlySpan<double> dwRow = beta.Slice(wOffset + r * inputs, inputs);
                    double hr = _parameters[bOffset + r];
                    double dhr = beta[bOffset + r];
                    for (int j = 0; j < inputs; j++)
                    {
                        hr += wRow[j] * a[j];
                        dhr += dwRow[j] * a[j];
                    }
                    if (!inputIsConstant)
                    {
                        for (int j = 0; j < inputs; j++)
                            dhr += wRow[j] * da[j];
                    }
                    h[r] = hr;
                    dh[r] = dhr;
                }
                Activate(_architecture.Activation, h.Slice(0, width), a.Slice(0, width), slope.Slice(0, width));
                for (int r = 0; r < width; r++)
                    da[r] = slope[r] * dh[r];
                inputs = width;
                inputIsConstant = false;
            }

            int outOffset = (int)_architecture.OutputWeightOffset;
            double df = beta[outOffset + inputs];
            for (int j = 0; j < inputs; j++)
                df += beta[outOffset + j] * a[j] + _parameters[outOffset + j] * da[j];
            output[k] = (float)(_targetMeans[k] + _targetScales[k] * df);
        }
    }

    private static void Activate(KareActivation activation, ReadOnlySpan<double> h, Span<double> value, Span<double> slope)
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
            default:
                for (int i = 0; i < h.Length; i++)
                {
                    double t = Math.Tanh(h[i]);
                    value[i] = t;
                    slope[i] = 1 - t * t;
                }
                break;
        }
    }
}
