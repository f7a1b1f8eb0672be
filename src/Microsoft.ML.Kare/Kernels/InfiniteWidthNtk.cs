using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using System;

namespace Microsoft.ML.Kare.Kernels;

/// <summary>
/// The analytic kernels of an infinitely wide multilayer perceptron (Jacot, Gabriel and Hongler 2018; docs/maths.md, "Infinite-width NTK"):
/// the NNGP kernel Σ (covariance of the output over random initialisations) and the neural tangent kernel Θ
/// (Θ(x, x′) = ∇θ f(x)ᵀ∇θ f(x′), which becomes deterministic as the widths grow).
/// </summary>
/// <remarks>
/// <para>
/// Network, in the NTK parametrisation with L hidden layers of widths n_1…n_L → ∞ and d inputs (n_0 = d):
/// h¹ = (σ_w/√d)·W¹x + β·b¹, a^l = φ(h^l), h^{l+1} = (σ_w/√n_l)·W^{l+1}a^l + β·b^{l+1} for l = 1…L, and the scalar
/// output f = h^{L+1} (the readout layer). Every W and b is N(0, 1); σ_w is the weight and β the bias standard
/// deviation.
/// </para>
/// <para>
/// Recursion, with (u, v) ~ N(0, [[Σ^l(x,x), Σ^l(x,x′)], [Σ^l(x,x′), Σ^l(x′,x′)]]):
/// Σ¹(x, x′) = σ_w²·x·x′/d + β², Θ¹ = Σ¹;
/// Σ^{l+1} = σ_w²·E[φ(u)φ(v)] + β², Σ̇^{l+1} = σ_w²·E[φ′(u)φ′(v)], Θ^{l+1} = Θ^l·Σ̇^{l+1} + Σ^{l+1};
/// the output's kernels are Σ = Σ^{L+1} and Θ = Θ^{L+1} (readout included). L = 0 is the linear model.
/// </para>
/// <para>
/// Closed forms. ReLU (arc-cosine): with c = Σ12/√(Σ11Σ22) and ϑ = arccos c,
/// E[φ(u)φ(v)] = √(Σ11Σ22)·(sin ϑ + (π − ϑ)·cos ϑ)/(2π), E[φ′(u)φ′(v)] = (π − ϑ)/(2π).
/// Erf: E[φ(u)φ(v)] = (2/π)·arcsin(2Σ12/√((1 + 2Σ11)(1 + 2Σ22))),
/// E[φ′(u)φ′(v)] = (4/π)/√((1 + 2Σ11)(1 + 2Σ22) − 4Σ12²).
/// Correlations are clamped to [−1, 1] (rounding can push them past ±1 for equal or opposite inputs).
/// </para>
/// <para>
/// Every cross kernel needs the diagonals Σ^l(x, x), l = 1…L, of both sides: <see cref="Prepare"/> computes them once
/// per set of rows. Managed float64 code without TorchSharp, so scoring can use it. Immutable and thread-safe.
/// </para>
/// </remarks>
internal sealed class InfiniteWidthNtk
{
    /// <summary>The largest number of hidden layers accepted (the kernel saturates long before).</summary>
    public const int MaximumHiddenLayerCount = 1024;

    /// <summary>Rows of a kernel matrix computed between two cancellation checks.</summary>
    private const int BlockRows = 64;

    private readonly double _weightVariance;
    private readonly double _biasVariance;

    /// <param name="activation">The nonlinearity φ.</param>
    /// <param name="hiddenLayerCount">L, the number of hidden layers (0 to <see cref="MaximumHiddenLayerCount"/>).</param>
    /// <param name="weightStandardDeviation">σ_w, positive.</param>
    /// <param name="biasStandardDeviation">β, non-negative.</param>
    public InfiniteWidthNtk(InfiniteWidthActivation activation, int hiddenLayerCount, double weightStandardDeviation, double biasStandardDeviation)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        if (hiddenLayerCount < 0 || hiddenLayerCount > MaximumHiddenLayerCount)
            throw new ArgumentOutOfRangeException(nameof(hiddenLayerCount), hiddenLayerCount, $"Must be between 0 and {MaximumHiddenLayerCount}.");
        if (!(weightStandardDeviation > 0) || !double.IsFinite(weightStandardDeviation))
            throw new ArgumentOutOfRangeException(nameof(weightStandardDeviation), weightStandardDeviation, "Must be a positive finite number.");
        if (!(biasStandardDeviation >= 0) || !double.IsFinite(biasStandardDeviation))
            throw new ArgumentOutOfRangeException(nameof(biasStandardDeviation), biasStandardDeviation, "Must be a non-negative finite number.");
        Activation = activation;
        HiddenLayerCount = hiddenLayerCount;
        WeightStandardDeviation = weightStandardDeviation;
        BiasStandardDeviation = biasStandardDeviation;
        _weightVariance = weightStandardDeviation * weightStandardDeviation;
        _biasVariance = biasStandardDeviation * biasStandardDeviation;
    }

    /// <summary>The nonlinearity φ.</summary>
    public InfiniteWidthActivation Activation { get; }

    /// <summary>L, the number of hidden layers.</summary>
    public int HiddenLayerCount { get; }

    /// <summary>σ_w.</summary>
    public double WeightStandardDeviation { get; }

    /// <summary>β.</summary>
    public double BiasStandardDeviation { get; }

    /// <summary>
    /// Wraps rows for kernel computations and computes their variances Σ^l(x, x), l = 1…L.
    /// </summary>
    /// <param name="inputs">Row-major rowCount×featureCount inputs; kept by reference, not copied: do not change it afterwards.</param>
    /// <param name="rowCount">Number of rows n.</param>
    /// <param name="featureCount">Number of features d (at least 1).</param>
    public PreparedRows Prepare(double[] inputs, int rowCount, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (featureCount < 1)
            throw new ArgumentOutOfRangeException(nameof(featureCount), featureCount, "Must be at least 1.");
        if (rowCount < 0 || inputs.Length != (long)rowCount * featureCount)
            throw new ArgumentException($"Expected {rowCount}×{featureCount} inputs, got {inputs.Length} values.", nameof(inputs));
        var variances = new double[(long)rowCount * HiddenLayerCount];
        for (int i = 0; i < rowCount; i++)
            RowVariances(inputs.AsSpan(i * featureCount, featureCount), variances.AsSpan(i * HiddenLayerCount, HiddenLayerCount));
        return new PreparedRows(inputs, rowCount, featureCount, variances);
    }

    /// <summary>
    /// Writes the pre-activation variances Σ^l(x, x) of one row x (length d) for l = 1…L into
    /// <paramref name="variances"/> (length L).
    /// </summary>
    public void RowVariances(ReadOnlySpan<double> row, Span<double> variances)
    {
        if (variances.Length != HiddenLayerCount)
            throw new ArgumentException($"Expected room for {HiddenLayerCount} variances, got {variances.Length}.", nameof(variances));
        if (HiddenLayerCount == 0)
            return;
        double q = _weightVariance * Dot(row, row) / row.Length + _biasVariance;
        variances[0] = q;
        // The diagonal uses the same closed form as the cross terms (Σ12 = Σ11 = Σ22), so Θ(x, x) computed as a cross
        // kernel of x with itself agrees with the diagonal used to normalise it.
        for (int l = 1; l < HiddenLayerCount; l++)
        {
            q = _weightVariance * Expectations(Activation, q, q, q).Value + _biasVariance;
            variances[l] = q;
        }
    }

    /// <summary>
    /// Σ(x, x′) and Θ(x, x′) of the output for one pair of rows, from their inner product x·x′, the number of features
    /// d and their variances (from <see cref="RowVariances"/>, length L each).
    /// </summary>
    public (double Nngp, double Ntk) Pair(double innerProduct, int featureCount, ReadOnlySpan<double> leftVariances, ReadOnlySpan<double> rightVariances)
    {
        double sigma = _weightVariance * innerProduct / featureCount + _biasVariance;
        double theta = sigma;
        for (int l = 0; l < HiddenLayerCount; l++)
        {
            var (value, derivative) = Expectations(Activation, leftVariances[l], rightVariances[l], sigma);
            sigma = _weightVariance * value + _biasVariance;
            theta = theta * (_weightVariance * derivative) + sigma;
        }
        return (sigma, theta);
    }

    /// <summary>Θ(A, B): a row-major n_A×n_B matrix (new array). Symmetric, and computed once per pair, when A and B are the same object.</summary>
    /// <param name="left">Rows A.</param>
    /// <param name="right">Rows B, with the same number of features.</param>
    /// <param name="checkAlive">Called between blocks of rows (for example to throw on cancellation); may be null.</param>
    public double[] Ntk(PreparedRows left, PreparedRows right, Action? checkAlive = null) => Matrix(left, right, ntk: true, checkAlive);

    /// <summary>Σ(A, B), the NNGP kernel of the output: a row-major n_A×n_B matrix (new array).</summary>
    /// <param name="left">Rows A.</param>
    /// <param name="right">Rows B, with the same number of features.</param>
    /// <param name="checkAlive">Called between blocks of rows; may be null.</param>
    public double[] Nngp(PreparedRows left, PreparedRows right, Action? checkAlive = null) => Matrix(left, right, ntk: false, checkAlive);

    /// <summary>
    /// Σ_j Θ(x, b_j)·w_j for one row x (length d) against the rows b_j of <paramref name="basis"/>: the kernel
    /// regression prediction with dual weights w. Allocates nothing when L ≤ 128.
    /// </summary>
    public double WeightedSum(ReadOnlySpan<double> row, PreparedRows basis, ReadOnlySpan<double> weights)
    {
        ArgumentNullException.ThrowIfNull(basis);
        if (row.Length != basis.FeatureCount)
            throw new ArgumentException($"Expected {basis.FeatureCount} features, got {row.Length}.", nameof(row));
        if (weights.Length != basis.RowCount)
            throw new ArgumentException($"Expected {basis.RowCount} weights, got {weights.Length}.", nameof(weights));
        int depth = HiddenLayerCount;
        Span<double> variances = depth <= 128 ? stackalloc double[depth] : new double[depth];
        RowVariances(row, variances);
        int d = basis.FeatureCount;
        double sum = 0;
        for (int j = 0; j < basis.RowCount; j++)
        {
            double inner = Dot(row, basis.Inputs.AsSpan(j * d, d));
            sum += weights[j] * Pair(inner, d, variances, basis.Variances.AsSpan(j * depth, depth)).Ntk;
        }
        return sum;
    }

    /// <summary>
    /// E[φ(u)φ(v)] and E[φ′(u)φ′(v)] for (u, v) ~ N(0, [[Σ11, Σ12], [Σ12, Σ22]]), in closed form (see the remarks).
    /// A ReLU input of zero variance is identically 0, so both expectations are 0 (φ′(0) = 0, as autograd has it).
    /// </summary>
    internal static (double Value, double Derivative) Expectations(InfiniteWidthActivation activation, double leftVariance, double rightVariance, double covariance)
    {
        switch (activation)
        {
            case InfiniteWidthActivation.Relu:
            {
                double product = leftVariance * rightVariance;
                if (!(product > 0))
                    return double.IsNaN(product) || double.IsNaN(covariance) ? (double.NaN, double.NaN) : (0.0, 0.0);
                double norm = Math.Sqrt(product);
                double cosine = Math.Clamp(covariance / norm, -1.0, 1.0);
                double angle = Math.Acos(cosine);
                double value = norm * (Math.Sqrt(1.0 - cosine * cosine) + (Math.PI - angle) * cosine) / (2 * Math.PI);
                return (value, (Math.PI - angle) / (2 * Math.PI));
            }
            case InfiniteWidthActivation.Erf:
            {
                double a = 1 + 2 * leftVariance;
                double b = 1 + 2 * rightVariance;
                double sine = Math.Clamp(2 * covariance / Math.Sqrt(a * b), -1.0, 1.0);
                // Σ12² ≤ Σ11Σ22 in exact arithmetic, which keeps the determinant ≥ 1 + 2Σ11 + 2Σ22 > 0; enforce it.
                double covarianceSquared = Math.Min(covariance * covariance, leftVariance * rightVariance);
                double determinant = a * b - 4 * covarianceSquared;
                return (2 / Math.PI * Math.Asin(sine), 4 / Math.PI / Math.Sqrt(determinant));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    private double[] Matrix(PreparedRows left, PreparedRows right, bool ntk, Action? checkAlive)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (left.FeatureCount != right.FeatureCount)
            throw new ArgumentException($"The rows have {left.FeatureCount} and {right.FeatureCount} features.", nameof(right));
        if (left.Variances.Length != (long)left.RowCount * HiddenLayerCount || right.Variances.Length != (long)right.RowCount * HiddenLayerCount)
            throw new ArgumentException("The rows were prepared by a kernel of another depth.", nameof(right));
        int rows = left.RowCount;
        int columns = right.RowCount;
        if ((long)rows * columns > Array.MaxLength)
            throw new ArgumentException($"A {rows}×{columns} kernel does not fit in one array.", nameof(right));
        bool symmetric = ReferenceEquals(left, right);
        var result = new double[(long)rows * columns];
        int d = left.FeatureCount;
        int depth = HiddenLayerCount;
        for (int start = 0; start < rows; start += BlockRows)
        {
            checkAlive?.Invoke();
            int end = Math.Min(rows, start + BlockRows);
            Parallel.For(start, end, i =>
            {
                ReadOnlySpan<double> x = left.Inputs.AsSpan(i * d, d);
                ReadOnlySpan<double> xVariances = left.Variances.AsSpan(i * depth, depth);
                for (int j = symmetric ? i : 0; j < columns; j++)
                {
                    var (nngp, theta) = Pair(Dot(x, right.Inputs.AsSpan(j * d, d)), d, xVariances, right.Variances.AsSpan(j * depth, depth));
                    double value = ntk ? theta : nngp;
                    result[(long)i * columns + j] = value;
                    if (symmetric)
                        result[(long)j * columns + i] = value; // only row i's iteration writes (j, i) for j > i
                }
            });
        }
        return result;
    }

    /// <summary>x·y, vectorised; the same order of operations for every call, so equal inputs give equal kernels.</summary>
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= 2 * Vector<double>.Count)
        {
            ReadOnlySpan<Vector<double>> vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            ReadOnlySpan<Vector<double>> vy = MemoryMarshal.Cast<double, Vector<double>>(y.Slice(0, x.Length));
            Vector<double> accumulator = Vector<double>.Zero;
            for (int k = 0; k < vx.Length; k++)
                accumulator += vx[k] * vy[k];
            sum = Vector.Sum(accumulator);
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < x.Length; i++)
            sum += x[i] * y[i];
        return sum;
    }

    /// <summary>Rows prepared for <see cref="InfiniteWidthNtk"/>: the inputs and their per-layer variances.</summary>
    internal sealed class PreparedRows
    {
        internal PreparedRows(double[] inputs, int rowCount, int featureCount, double[] variances)
        {
            Inputs = inputs;
            RowCount = rowCount;
            FeatureCount = featureCount;
            Variances = variances;
        }

        /// <summary>Row-major n×d inputs.</summary>
        public double[] Inputs { get; }

        /// <summary>n.</summary>
        public int RowCount { get; }

        /// <summary>d.</summary>
        public int FeatureCount { get; }

        /// <summary>Row-major n×L variances Σ^l(x_i, x_i), l = 1…L.</summary>
        public double[] Variances { get; }
    }
}
