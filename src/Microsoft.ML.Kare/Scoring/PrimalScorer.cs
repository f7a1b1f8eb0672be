using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// Scores rows with a KARE model in primal form (kare.md §5), in plain managed code:
/// ŷ_k(x) = mean_k + scale_k · ∇θ f(z; θ)ᵀ β_k, z = (x − μ)/σ,
/// computed as one forward-mode Jacobian-vector product of the network at θ in direction β_k
/// (carry (h, dh) through each layer: dh = dW·a + W·da + db, da = φ′(h) ⊙ dh).
/// Models that predict with the (linearised) network itself add its output: ŷ_k = mean_k + scale_k·(f(z; θ) + ∇θ f(z; θ)ᵀ β_k).
/// </summary>
/// <remarks>
/// Immutable and thread-safe: each thread scores with its own scratch buffers.
/// Speed: the hidden layers' W and β_W are stored transposed once, in the constructor (input-major, so that one
/// input's column is a contiguous run over the layer's units), and each layer is a sequence of vectorised
/// column updates h += W[:, j]·a_j, dh += β_W[:, j]·a_j, then dh += W[:, j]·da_j; the forward pass (h, a, φ′) is
/// shared by all outputs, and the tangent of an output whose β is zero is skipped. Every unit's sums are formed in
/// the same order as the plain row-by-row formulation (bias, then j = 0, 1, …, without fused multiply-adds), so the
/// scores are bit-identical to it.
/// </remarks>
internal sealed class PrimalScorer
{
    private readonly KareNetworkArchitecture _architecture;
    private readonly double[] _featureMeans;
    private readonly double[] _featureScales;
    private readonly double[] _targetMeans;
    private readonly double[] _targetScales;
    private readonly bool _includeNetworkOutput;

    private readonly int[] _widths;
    private readonly int[] _inputs;                 // [l] = inputs of hidden layer l
    private readonly double[][] _weightsT;          // [l] = W_lᵀ, inputs × width (input-major)
    private readonly double[][] _biases;            // [l] = b_l
    private readonly double[][][] _primalWeightsT;  // [k][l] = (β_k's W_l)ᵀ, inputs × width
    private readonly double[][][] _primalBiases;    // [k][l] = β_k's b_l
    private readonly double[] _outputWeights;       // θ's w_out (length = last width)
    private readonly double _outputBias;
    private readonly double[][] _primalOutputWeights; // [k] = β_k's w_out
    private readonly double[] _primalOutputBiases;    // [k] = β_k's b_out
    private readonly bool[] _tangentIsZero;           // [k]: β_k ≡ 0, so the tangent term is exactly 0
    private readonly int _maxWidth;

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
        _featureMeans = featureMeans;
        _featureScales = featureScales;
        _targetMeans = targetMeans;
        _targetScales = targetScales;
        _includeNetworkOutput = includeNetworkOutput;

        int depth = architecture.Depth;
        _widths = new int[depth];
        _inputs = new int[depth];
        _weightsT = new double[depth][];
        _biases = new double[depth][];
        int maxWidth = architecture.InputCount;
        for (int l = 0; l < depth; l++)
        {
            _widths[l] = architecture.HiddenWidths[l];
            _inputs[l] = architecture.LayerInputCount(l);
            _weightsT[l] = Transposed(parameters, (int)architecture.WeightOffset(l), _widths[l], _inputs[l]);
            _biases[l] = parameters.AsSpan((int)architecture.BiasOffset(l), _widths[l]).ToArray();
            maxWidth = Math.Max(maxWidth, _widths[l]);
        }
        _maxWidth = maxWidth;
        int last = architecture.LayerInputCount(depth);
        int outOffset = (int)architecture.OutputWeightOffset;
        _outputWeights = parameters.AsSpan(outOffset, last).ToArray();
        _outputBias = parameters[outOffset + last];

        _primalWeightsT = new double[outputs][][];
        _primalBiases = new double[outputs][][];
        _primalOutputWeights = new double[outputs][];
        _primalOutputBiases = new double[outputs];
        _tangentIsZero = new bool[outputs];
        for (int k = 0; k < outputs; k++)
        {
            double[] beta = primalWeights.AsSpan((int)(k * p), (int)p).ToArray();
            _tangentIsZero[k] = Array.TrueForAll(beta, v => v == 0);
            _primalWeightsT[k] = new double[depth][];
            _primalBiases[k] = new double[depth][];
            for (int l = 0; l < depth; l++)
            {
                _primalWeightsT[k][l] = Transposed(beta, (int)architecture.WeightOffset(l), _widths[l], _inputs[l]);
                _primalBiases[k][l] = beta.AsSpan((int)architecture.BiasOffset(l), _widths[l]).ToArray();
            }
            _primalOutputWeights[k] = beta.AsSpan(outOffset, last).ToArray();
            _primalOutputBiases[k] = beta[outOffset + last];
        }
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

        int depth = _widths.Length;
        int w = _maxWidth;
        // Scratch per thread: z, then per layer its h, a = φ(h), φ′(h) (kept for every output's tangent), and dh, da.
        int needed = w + 3 * Sum(_widths) + 2 * w;
        double[] scratch = t_scratch is { } existing && existing.Length >= needed ? existing : (t_scratch = new double[needed]);
        Span<double> z = scratch.AsSpan(0, InputCount);
        int d = InputCount;
        bool missing = false;
        for (int j = 0; j < d; j++)
        {
            z[j] = (features[j] - _featureMeans[j]) / _featureScales[j];
            missing |= double.IsNaN(z[j]);
        }
        if (missing)
        {
            output.Fill(float.NaN);
            return;
        }

        // Forward pass, shared by all outputs: h_l = W_l a_{l−1} + b_l, a_l = φ(h_l), s_l = φ′(h_l).
        int offset = w;
        ReadOnlySpan<double> previous = z;
        for (int l = 0; l < depth; l++)
        {
            int width = _widths[l];
            Span<double> h = scratch.AsSpan(offset, width);
            Span<double> a = scratch.AsSpan(offset + width, width);
            Span<double> s = scratch.AsSpan(offset + 2 * width, width);
            _biases[l].CopyTo(h);
            AddColumns(_weightsT[l], previous, h);
            ManagedActivations.Apply(_architecture.Activation, h, a, s);
            previous = a;
            offset += 3 * width;
        }
        ReadOnlySpan<double> last = previous;

        double network = 0;
        if (_includeNetworkOutput)
        {
            network = _outputBias;
            for (int j = 0; j < last.Length; j++)
                network += _outputWeights[j] * last[j];
        }

        Span<double> dh = scratch.AsSpan(offset, w);
        Span<double> da = scratch.AsSpan(offset + w, w);
        for (int k = 0; k < OutputCount; k++)
        {
            double df = 0;
            if (!_tangentIsZero[k])
            {
                // Tangent: dh_l = β_{W_l} a_{l−1} + W_l da_{l−1} + β_{b_l} (da_0 = 0), da_l = φ′(h_l) ⊙ dh_l.
                int layerOffset = w;
                previous = z;
                ReadOnlySpan<double> previousTangent = default;
                for (int l = 0; l < depth; l++)
                {
                    int width = _widths[l];
                    Span<double> dhl = dh.Slice(0, width);
                    _primalBiases[k][l].CopyTo(dhl);
                    AddColumns(_primalWeightsT[k][l], previous, dhl);
                    if (l > 0)
                        AddColumns(_weightsT[l], previousTangent, dhl);
                    ReadOnlySpan<double> s = scratch.AsSpan(layerOffset + 2 * width, width);
                    Span<double> dal = da.Slice(0, width);
                    Multiply(s, dhl, dal);
                    previous = scratch.AsSpan(layerOffset + width, width);
                    previousTangent = dal;
                    layerOffset += 3 * width;
                }

                double[] primalOutputWeights = _primalOutputWeights[k];
                df = _primalOutputBiases[k]; // d b_out
                for (int j = 0; j < last.Length; j++)
                    df += primalOutputWeights[j] * last[j] + _outputWeights[j] * previousTangent[j];
            }
            if (_includeNetworkOutput)
                df = _tangentIsZero[k] ? network : AddNetworkOutput(df, last);
            output[k] = (float)(_targetMeans[k] + _targetScales[k] * df);
        }
    }

    /// <summary>The network's output added term by term after the tangent (the order of the plain formulation).</summary>
    private double AddNetworkOutput(double df, ReadOnlySpan<double> last)
    {
        df += _outputBias;
        for (int j = 0; j < last.Length; j++)
            df += _outputWeights[j] * last[j];
        return df;
    }

    /// <summary>
    /// y += Mᵀ-stored matrix times x, one column at a time: y[r] += M[j, r]·x[j] for j = 0, 1, … (M input-major,
    /// |x| × |y|). Each y[r] receives its terms in order of j with a separate multiply and add, as a scalar loop would
    /// (C# evaluates a + b + c left to right and the JIT does not contract to fused multiply-adds).
    /// </summary>
    private static void AddColumns(double[] transposed, ReadOnlySpan<double> x, Span<double> y)
    {
        int width = y.Length;
        ReadOnlySpan<double> matrix = transposed;
        int vectorEnd = Vector.IsHardwareAccelerated ? width - width % Vector<double>.Count : 0;
        Span<Vector<double>> yVectors = MemoryMarshal.Cast<double, Vector<double>>(y.Slice(0, vectorEnd));
        int j = 0;
        if (vectorEnd > 0)
        {
            // Four columns per sweep: y is loaded and stored once per four terms, added in the same order.
            for (; j + 4 <= x.Length; j += 4)
            {
                var x0 = new Vector<double>(x[j]);
                var x1 = new Vector<double>(x[j + 1]);
                var x2 = new Vector<double>(x[j + 2]);
                var x3 = new Vector<double>(x[j + 3]);
                ReadOnlySpan<Vector<double>> c0 = MemoryMarshal.Cast<double, Vector<double>>(matrix.Slice(j * width, vectorEnd));
                ReadOnlySpan<Vector<double>> c1 = MemoryMarshal.Cast<double, Vector<double>>(matrix.Slice((j + 1) * width, vectorEnd));
                ReadOnlySpan<Vector<double>> c2 = MemoryMarshal.Cast<double, Vector<double>>(matrix.Slice((j + 2) * width, vectorEnd));
                ReadOnlySpan<Vector<double>> c3 = MemoryMarshal.Cast<double, Vector<double>>(matrix.Slice((j + 3) * width, vectorEnd));
                for (int v = 0; v < yVectors.Length; v++)
                    yVectors[v] = yVectors[v] + c0[v] * x0 + c1[v] * x1 + c2[v] * x2 + c3[v] * x3;
                for (int r = vectorEnd; r < width; r++)
                    y[r] = y[r] + matrix[j * width + r] * x[j] + matrix[(j + 1) * width + r] * x[j + 1]
                           + matrix[(j + 2) * width + r] * x[j + 2] + matrix[(j + 3) * width + r] * x[j + 3];
            }
        }
        for (; j < x.Length; j++)
        {
            double xj = x[j];
            ReadOnlySpan<double> column = matrix.Slice(j * width, width);
            if (vectorEnd > 0)
            {
                var xv = new Vector<double>(xj);
                ReadOnlySpan<Vector<double>> columnVectors = MemoryMarshal.Cast<double, Vector<double>>(column.Slice(0, vectorEnd));
                for (int v = 0; v < yVectors.Length; v++)
                    yVectors[v] += columnVectors[v] * xv;
            }
            for (int r = vectorEnd; r < width; r++)
                y[r] += column[r] * xj;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> result)
    {
        for (int i = 0; i < result.Length; i++)
            result[i] = a[i] * b[i];
    }

    /// <summary>The rows × columns row-major block at <paramref name="offset"/>, transposed (columns × rows).</summary>
    private static double[] Transposed(double[] values, int offset, int rows, int columns)
    {
        var result = new double[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < columns; j++)
                result[j * rows + r] = values[offset + r * columns + j];
        }
        return result;
    }

    private static int Sum(int[] values)
    {
        int sum = 0;
        foreach (int v in values)
            sum += v;
        return sum;
    }
}
