using System.Collections.Generic;
using System;
using static Microsoft.ML.Kare.Scoring.RowBlockKernels;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// Scores rows with a KARE model in primal form (docs/maths.md, "Primal form"), in plain managed code:
/// ŷ_k(x) = mean_k + scale_k · ∇θ f(z; θ)ᵀ β_k, z = (c(x̃) − μ)/σ with x̃ the features followed by the normal scores of
/// the scored ones (<see cref="NormalScores"/>, when the model has them) and c the compression of skewed inputs
/// (<see cref="FeatureCompression"/>; the identity for the others), each z_j clipped to the training range when the
/// model stores one (<see cref="InputRange"/>), computed as one forward-mode Jacobian-vector product of the network at θ in direction β_k
/// (carry (h, dh) through each layer: dh = dW·a + W·da + db, da = φ′(h) ⊙ dh).
/// Models that predict with the (linearised) network itself add its output: ŷ_k = mean_k + scale_k·(f(z; θ) + ∇θ f(z; θ)ᵀ β_k).
/// </summary>
/// <remarks>
/// Immutable and thread-safe: each thread scores with its own scratch buffers.
/// Speed: each layer is one pass of <see cref="RowBlockKernels"/> over its weights, which reads W once for both the
/// forward values h = W a + b and the first output's tangent dh = β_W a + W da + β_b, four units at a time with fused
/// multiply-adds. Weights and the vectors a, da are stored zero-padded (<see cref="RowBlockKernels.Padded"/>). The
/// forward pass is shared by all outputs; the tangent of an output whose β is zero is skipped. Sums are formed in a
/// fixed order, so a row's score is identical run to run on one machine; across processors with different vector
/// widths it agrees to rounding.
/// </remarks>
internal sealed class PrimalScorer : IRowScorer
{
    private readonly KareNetworkArchitecture _architecture;
    private readonly double[] _featureMeans;
    private readonly double[] _featureScales;
    private readonly double[]? _compressionScales;  // null when no feature is compressed
    private readonly NormalScores? _normalScores;     // null when no score is appended
    private readonly InputRange? _inputRange;         // null: inputs are not clipped
    private readonly double[] _targetMeans;
    private readonly double[] _targetScales;
    private readonly bool _includeNetworkOutput;

    private readonly int[] _widths;                 // [l] = units of hidden layer l
    private readonly int[] _strides;                // [l] = padded row length of layer l (its inputs rounded up)
    private readonly double[][] _weights;           // [l] = W_l in the kernels' packed layout (RowBlockKernels.Pack)
    private readonly double[][] _biases;            // [l] = b_l
    private readonly double[][][] _primalWeights;   // [k][l] = β_k's W_l, packed likewise
    private readonly double[][][] _primalBiases;    // [k][l] = β_k's b_l
    private readonly double[] _outputWeights;       // θ's w_out, padded to the last layer's padded width
    private readonly double _outputBias;
    private readonly double[][] _primalOutputWeights; // [k] = β_k's w_out, padded
    private readonly double[] _primalOutputBiases;    // [k] = β_k's b_out
    private readonly int[] _tangentOutputs;           // the outputs k whose β_k is not zero
    private readonly int[] _tangentIndex;             // [k] = position of k in _tangentOutputs, or −1
    private readonly int _paddedMaxWidth;
    private readonly int _scratchLength;

    [ThreadStatic]
    private static double[]? t_scratch;

    /// <param name="architecture">Network shape.</param>
    /// <param name="parameters">θ, length P.</param>
    /// <param name="primalWeights">β, P × c, output k at [k·P, (k+1)·P).</param>
    /// <param name="featureMeans">μ, length d.</param>
    /// <param name="featureScales">σ, length d (all positive).</param>
    /// <param name="targetMeans">Per-output mean, length c.</param>
    /// <param name="targetScales">Per-output scale, length c.</param>
    /// <param name="includeNetworkOutput">Add the network's own output f(z; θ) to each output.</param>
    /// <param name="featureCompressionScales">Per-input compression scale s (0: not compressed), one per network input; null for none.</param>
    /// <param name="normalScores">The normal scores appended to the features (the network's inputs beyond d); null for none.</param>
    /// <param name="inputRange">The training range each standardised input is clipped to; null to clip none.</param>
    public PrimalScorer(KareNetworkArchitecture architecture, double[] parameters, double[] primalWeights,
        double[] featureMeans, double[] featureScales, double[] targetMeans, double[] targetScales, bool includeNetworkOutput = false,
        double[]? featureCompressionScales = null, NormalScores? normalScores = null, InputRange? inputRange = null)
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
        if (FeatureCompression.FindProblem(featureCompressionScales, architecture.InputCount) is string problem)
            throw new ArgumentException($"The scorer {problem}.", nameof(featureCompressionScales));
        if (NormalScores.FindProblem(normalScores, architecture.InputCount) is string scores)
            throw new ArgumentException($"The scorer {scores}.", nameof(normalScores));
        if (InputRange.FindProblem(inputRange, architecture.InputCount) is string range)
            throw new ArgumentException($"The scorer {range}.", nameof(inputRange));

        _architecture = architecture;
        _featureMeans = featureMeans;
        _featureScales = featureScales;
        _compressionScales = FeatureCompression.Any(featureCompressionScales) ? featureCompressionScales : null;
        _normalScores = normalScores;
        _inputRange = inputRange;
        _targetMeans = targetMeans;
        _targetScales = targetScales;
        _includeNetworkOutput = includeNetworkOutput;

        int depth = architecture.Depth;
        _widths = new int[depth];
        _strides = new int[depth];
        _weights = new double[depth][];
        _biases = new double[depth][];
        int maxWidth = 0;
        for (int l = 0; l < depth; l++)
        {
            _widths[l] = architecture.HiddenWidths[l];
            _strides[l] = Padded(architecture.LayerInputCount(l));
            _weights[l] = Pack(parameters, (int)architecture.WeightOffset(l), _widths[l], architecture.LayerInputCount(l));
            _biases[l] = parameters.AsSpan((int)architecture.BiasOffset(l), _widths[l]).ToArray();
            maxWidth = Math.Max(maxWidth, _widths[l]);
        }
        _paddedMaxWidth = Padded(maxWidth);
        int last = architecture.LayerInputCount(depth);
        int outOffset = (int)architecture.OutputWeightOffset;
        _outputWeights = parameters.AsSpan(outOffset, last).ToArray();
        Array.Resize(ref _outputWeights, Padded(last));
        _outputBias = parameters[outOffset + last];

        _primalWeights = new double[outputs][][];
        _primalBiases = new double[outputs][][];
        _primalOutputWeights = new double[outputs][];
        _primalOutputBiases = new double[outputs];
        var tangentOutputs = new List<int>();
        for (int k = 0; k < outputs; k++)
        {
            ReadOnlySpan<double> beta = primalWeights.AsSpan((int)(k * p), (int)p);
            if (beta.IndexOfAnyExcept(0.0) >= 0)
                tangentOutputs.Add(k);
            _primalWeights[k] = new double[depth][];
            _primalBiases[k] = new double[depth][];
            for (int l = 0; l < depth; l++)
            {
                _primalWeights[k][l] = Pack(primalWeights, (int)(k * p + architecture.WeightOffset(l)), _widths[l], architecture.LayerInputCount(l));
                _primalBiases[k][l] = beta.Slice((int)architecture.BiasOffset(l), _widths[l]).ToArray();
            }
            _primalOutputWeights[k] = beta.Slice(outOffset, last).ToArray();
            Array.Resize(ref _primalOutputWeights[k], Padded(last));
            _primalOutputBiases[k] = beta[outOffset + last];
        }
        _tangentOutputs = tangentOutputs.ToArray();
        _tangentIndex = new int[outputs];
        Array.Fill(_tangentIndex, -1);
        for (int t = 0; t < _tangentOutputs.Length; t++)
            _tangentIndex[_tangentOutputs[t]] = t;
        // z; per layer h, s (width) and a (padded); per tangent output dh (width) and two padded da (this and the previous layer).
        _scratchLength = Padded(architecture.InputCount) + depth * 3 * _paddedMaxWidth + _tangentOutputs.Length * 3 * _paddedMaxWidth;
    }

    /// <summary>Number of features a row has (the network's inputs without the normal scores appended to them).</summary>
    public int InputCount => _normalScores?.FeatureCount ?? _architecture.InputCount;

    /// <summary>Number of outputs c.</summary>
    public int OutputCount => _targetMeans.Length;

    /// <summary>Scores one row. A NaN feature gives NaN outputs, as ML.NET's linear models do.</summary>
    public void Score(ReadOnlySpan<float> features, Span<float> output)
    {
        if (features.Length != InputCount)
            throw new ArgumentException($"Expected {InputCount} features, got {features.Length}.", nameof(features));
        if (output.Length != OutputCount)
            throw new ArgumentException($"Expected room for {OutputCount} outputs, got {output.Length}.", nameof(output));

        double[] scratch = t_scratch is { } existing && existing.Length >= _scratchLength ? existing : (t_scratch = new double[_scratchLength]);
        int d = _architecture.InputCount, given = InputCount;
        Span<double> z = scratch.AsSpan(0, Padded(d));
        bool missing = false;
        for (int j = 0; j < d; j++)
        {
            double value = j < given ? features[j] : _normalScores!.Score(features, j - given);
            double x = _compressionScales is null ? value : FeatureCompression.Apply(value, _compressionScales[j]);
            z[j] = (x - _featureMeans[j]) / _featureScales[j];
            missing |= double.IsNaN(z[j]);
            if (_inputRange is not null)
                z[j] = _inputRange.Clip(z[j], j);
        }
        if (missing)
        {
            output.Fill(float.NaN);
            return;
        }
        z.Slice(d).Clear();

        int w = _paddedMaxWidth;
        int tangents = _tangentOutputs.Length;
        int layerBase = z.Length;
        int tangentBase = layerBase + _widths.Length * 3 * w;
        ReadOnlySpan<double> previous = z;
        for (int l = 0; l < _widths.Length; l++)
        {
            int width = _widths[l];
            int rows = Padded(width);
            int stride = _strides[l];
            Span<double> h = scratch.AsSpan(layerBase + 3 * w * l, rows);
            Span<double> s = scratch.AsSpan(layerBase + 3 * w * l + w, width);
            Span<double> a = scratch.AsSpan(layerBase + 3 * w * l + 2 * w, rows);
            double[] weights = _weights[l];
            // Tangent output t: dh at [tangentBase + 3w·t, +rows); da alternates between the two buffers after it.
            for (int t = 0; t < tangents; t++)
            {
                int k = _tangentOutputs[t];
                Span<double> dh = scratch.AsSpan(tangentBase + 3 * w * t, rows);
                if (t == 0 && l == 0)
                    ProductPair(weights, _primalWeights[k][l], stride, previous, h, dh);
                else if (t == 0)
                    ProductTriple(weights, _primalWeights[k][l], stride, previous, PreviousTangent(scratch, tangentBase, t, l, stride), h, dh);
                else if (l == 0)
                    Product(_primalWeights[k][l], stride, previous, dh);
                else
                    TangentProduct(weights, _primalWeights[k][l], stride, previous, PreviousTangent(scratch, tangentBase, t, l, stride), dh);
            }
            if (tangents == 0)
                Product(weights, stride, previous, h);
            Add(_biases[l], h);
            ManagedActivations.Apply(_architecture.Activation, h.Slice(0, width), a.Slice(0, width), s);
            a.Slice(width).Clear();
            for (int t = 0; t < tangents; t++)
            {
                Span<double> dh = scratch.AsSpan(tangentBase + 3 * w * t, width);
                Add(_primalBiases[_tangentOutputs[t]][l], dh);
                Span<double> da = CurrentTangent(scratch, tangentBase, t, l, rows);
                for (int i = 0; i < width; i++)
                    da[i] = s[i] * dh[i];
                da.Slice(width).Clear();
            }
            previous = a;
        }

        // previous = a_L (padded); the last layer's tangents da_L are the "current" buffers of layer L − 1.
        int lastLayer = _widths.Length - 1;
        double network = _includeNetworkOutput ? _outputBias + Dot(_outputWeights, previous) : 0;
        for (int k = 0; k < output.Length; k++)
        {
            int t = _tangentIndex[k];
            double df = network;
            if (t >= 0)
            {
                ReadOnlySpan<double> da = CurrentTangent(scratch, tangentBase, t, lastLayer, previous.Length);
                df += _primalOutputBiases[k] + DotSum(_primalOutputWeights[k], previous, _outputWeights, da);
            }
            output[k] = (float)(_targetMeans[k] + _targetScales[k] * df);
        }
    }

    private static void Add(ReadOnlySpan<double> values, Span<double> target)
    {
        for (int i = 0; i < values.Length; i++)
            target[i] += values[i];
    }

    /// <summary>The padded da of layer <paramref name="layer"/> − 1 for tangent output <paramref name="t"/>.</summary>
    private ReadOnlySpan<double> PreviousTangent(double[] scratch, int tangentBase, int t, int layer, int length)
        => scratch.AsSpan(tangentBase + 3 * _paddedMaxWidth * t + ((layer - 1) % 2 + 1) * _paddedMaxWidth, length);

    /// <summary>The padded da of layer <paramref name="layer"/> for tangent output <paramref name="t"/> (alternates between two buffers).</summary>
    private Span<double> CurrentTangent(double[] scratch, int tangentBase, int t, int layer, int length)
        => scratch.AsSpan(tangentBase + 3 * _paddedMaxWidth * t + (layer % 2 + 1) * _paddedMaxWidth, length);
}
