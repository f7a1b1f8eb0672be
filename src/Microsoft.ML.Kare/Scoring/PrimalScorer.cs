using System;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// Scores rows with a KARE model in primal form (kare.md §5), in plain managed code:
/// ŷ_k(x) = mean_k + scale_k · ∇θ f(z; θ)ᵀ β_k, z = (x − μ)/σ,
/// computed as one forward-mode Jacobian-vector product of the network at θ in direction β_k
/// (carry (h, dh) through each layer: dh = dW·a + W·da + db, da = φ′(h) ⊙ dh).
/// Models that predict with the (linearised) network itself add its output: ŷ_k = mean_k + scale_k·(f(z; θ) + ∇θ f(z; θ)ᵀ β_k).
/// </summary>
/// <remarks>Immutable and thread-safe: each call uses its own scratch buffers.</remarks>
internal sealed class PrimalScorer
{
    private readonly KareNetworkArchitecture _architecture;
    private readonly double[] _parameters;
    private readonly double[] _primalWeights;
    private readonly double[] _featureMeans;
    private readonly double[] _featureScales;
    private readonly double[] _targetMeans;
    private readonly double[] _targetScales;
    private readonly int _maxWidth;
    private readonly bool _includeNetworkOutput;

    /// <param name="architecture">Network shape.</param>
    /// <param name="parameters">θ, length P.</param>
    /// <param name="primalWeights">β, P × c, output k at [k·P, (k+1)·P).</param>
    /// <param name="featureMeans">μ, length d.</param>
    /// <param name="featureScales">σ, length d (all positive).</param>
    /// <param name="targetMeans">Per-output mean, length c.</param>
    /// <param name="targetScales">Per-output scale, length c.</param>
    /// <param name="includeNetworkOutput">Add the network's own output f(z; θ) to each output.</param>
    public PrimalScorer(KareNetworkArchitecture architecture, double[] parameters, double[] primalWeights,
        double[] featureMeans, double[] featureScales, double[] targetMeans, double[] targetScales, bool includeNetworkOutput = false)
    {
        long p = architecture.ParameterCount;
        int outputs = targetMeans.Length;
        if (parameters.Length != p)
            throw new ArgumentException($"Expected {p} network parameters, got {parameters.Length}.", nameof(parameters));
        if (outputs < 1 || targetScales.Length != outputs)
            throw new ArgumentException("Target means and scales must have the same positive length.", nameof(targetScales));
        if (primalWeights.Length != p * outputs)
            throw new ArgumentException($"Expected {p}×{outputs} primal weights, got {primalWeights.Length}.", nameof(primalWeights));
        if (featureMeans.Length != architecture.InputCount || featureScales.Length != architecture.InputCount)
            throw new ArgumentException($"Expected {architecture.InputCount} feature means and scales.", nameof(featureMeans));

        _architecture = architecture;
        _parameters = parameters;
        _primalWeights = primalWeights;
        _featureMeans = featureMeans;
        _featureScales = featureScales;
        _targetMeans = targetMeans;
        _targetScales = targetScales;
        _includeNetworkOutput = includeNetworkOutput;
        int maxWidth = architecture.InputCount;
        foreach (int width in architecture.HiddenWidths)
            maxWidth = Math.Max(maxWidth, width);
        _maxWidth = maxWidth;
    }

    /// <summary>Number of input features.</summary>
    public int InputCount => _architecture.InputCount;

    /// <summary>Number of outputs c.</summary>
    public int OutputCount => _targetMeans.Length;

    /// <summary>Scores one row. A NaN feature gives NaN outputs, as ML.NET's linear models do.</summary>
    public void Score(ReadOnlySpan<float> features, Span<float> output)
    {
        if (features.Length != InputCount)
            throw new ArgumentException($"Expected {InputCount} features, got {features.Length}.", nameof(features));
        if (output.Length != OutputCount)
            throw new ArgumentException($"Expected room for {OutputCount} outputs, got {output.Length}.", nameof(output));

        int w = _maxWidth;
        // Scratch: a, da, h, dh, slope; a stack buffer for usual widths keeps scoring allocation-free.
        Span<double> scratch = w * 5 <= 4096 ? stackalloc double[w * 5] : new double[w * 5];
        Span<double> a = scratch.Slice(0, w);
        Span<double> da = scratch.Slice(w, w);
        Span<double> h = scratch.Slice(2 * w, w);
        Span<double> dh = scratch.Slice(3 * w, w);
        Span<double> slope = scratch.Slice(4 * w, w);

        int d = InputCount;
        for (int k = 0; k < OutputCount; k++)
        {
            ReadOnlySpan<double> beta = _primalWeights.AsSpan((int)(k * _architecture.ParameterCount), (int)_architecture.ParameterCount);
            for (int j = 0; j < d; j++)
                a[j] = (features[j] - _featureMeans[j]) / _featureScales[j];
            da.Slice(0, d).Clear();

            int inputs = d;
            bool inputIsConstant = true; // da ≡ 0 for the first layer: skip W·da.
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
                ManagedActivations.Apply(_architecture.Activation, h.Slice(0, width), a.Slice(0, width), slope.Slice(0, width));
                for (int r = 0; r < width; r++)
                    da[r] = slope[r] * dh[r];
                inputs = width;
                inputIsConstant = false;
            }

            int outOffset = (int)_architecture.OutputWeightOffset;
            double df = beta[outOffset + inputs]; // d b_out
            for (int j = 0; j < inputs; j++)
                df += beta[outOffset + j] * a[j] + _parameters[outOffset + j] * da[j];
            if (_includeNetworkOutput)
            {
                df += _parameters[outOffset + inputs]; // b_out
                for (int j = 0; j < inputs; j++)
                    df += _parameters[outOffset + j] * a[j];
            }
            output[k] = (float)(_targetMeans[k] + _targetScales[k] * df);
        }
    }
}
