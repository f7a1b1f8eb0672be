using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// A set of standardised rows as float64 tensors: features X (m×d), targets Y (m×c), and the row scales
/// s = √w that weight the kernel (K_w = S K S) and the targets (Y_w = S Y).
/// </summary>
internal sealed class RowSet : IDisposable
{
    private readonly double[] _features;
    private readonly double[] _targets;
    private readonly double[]? _weights;
    private readonly int _featureCount;
    private readonly int _targetCount;
    private readonly int[] _rows;
    private readonly Tensor? _scales;
    private Tensor? _inputGram;

    public RowSet(double[] features, double[] targets, double[]? weights, int featureCount, int targetCount, int[] rows)
    {
        _features = features;
        _targets = targets;
        _weights = weights;
        _featureCount = featureCount;
        _targetCount = targetCount;
        _rows = rows;
        Features = Gather(features, featureCount, rows);
        Targets = Gather(targets, targetCount, rows);
        if (weights is not null)
        {
            var w = new double[rows.Length];
            for (int i = 0; i < rows.Length; i++)
                w[i] = weights[rows[i]];
            Weights = torch.tensor(w, ScalarType.Float64);
            _scales = Weights.sqrt();
            WeightedTargets = Targets * _scales.unsqueeze(1);
        }
        else
        {
            WeightedTargets = Targets.alias();
        }
    }

    public int Count => _rows.Length;

    /// <summary>X, m×d.</summary>
    public Tensor Features { get; }

    /// <summary>Y, m×c.</summary>
    public Tensor Targets { get; }

    /// <summary>S·Y, m×c.</summary>
    public Tensor WeightedTargets { get; }

    /// <summary>Row weights w (mean 1 over all training rows), or null when unweighted.</summary>
    public Tensor? Weights { get; }

    /// <summary>The row scales s = √w (m), or null when unweighted.</summary>
    public Tensor? Scales => _scales;

    /// <summary>
    /// X Xᵀ + 1 (m×m, no autograd history) in <paramref name="precision"/>: layer 1's factor A_0 A_0ᵀ + 1 of the
    /// structured kernel, which does not depend on θ. Computed in float64 on first use (then converted) and kept, owned
    /// by this set, so that every KARE step on these rows reuses it; asking for another precision replaces it.
    /// </summary>
    public Tensor InputGram(ScalarType precision)
    {
        if (_inputGram is null || _inputGram.dtype != precision)
        {
            _inputGram?.Dispose();
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            Tensor gram = Features.mm(Features.t()).AddInPlace(1.0).to_type(precision);
            gram.DetachFromDisposeScope();
            _inputGram = gram;
        }
        return _inputGram;
    }

    /// <summary>S K S for a kernel among these rows (returns the input itself when unweighted).</summary>
    public Tensor WeightKernel(Tensor kernel)
        => _scales is null ? kernel : kernel * _scales.unsqueeze(1) * _scales.unsqueeze(0);

    /// <summary>K S for a kernel whose columns are these rows.</summary>
    public Tensor WeightColumns(Tensor kernel)
        => _scales is null ? kernel : kernel * _scales.unsqueeze(0);

    /// <summary>S α for per-row coefficients α (m×c).</summary>
    public Tensor WeightRows(Tensor values)
        => _scales is null ? values : values * _scales.unsqueeze(1);

    /// <summary>
    /// Weighted mean squared error Σ w_i (p_i − y_i)² / Σ w_i of one-output predictions against these rows' first target
    /// (standardised units); NaN when the weights sum to zero.
    /// </summary>
    public double MeanSquaredError(double[] predictions)
    {
        double sum = 0, total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double w = _weights?[_rows[i]] ?? 1.0;
            double r = predictions[i] - _targets[(long)_rows[i] * _targetCount];
            sum += w * r * r;
            total += w;
        }
        return total > 0 ? sum / total : double.NaN;
    }

    /// <summary>The first <paramref name="count"/> rows.</summary>
    public RowSet Take(int count) => new(_features, _targets, _weights, _featureCount, _targetCount, _rows.AsSpan(0, count).ToArray());

    /// <summary>Batches of at most <paramref name="batchRows"/> rows that <paramref name="rows"/> rows need: ⌈rows/batchRows⌉.</summary>
    public static int BatchCount(int rows, int batchRows) => (rows + batchRows - 1) / batchRows;

    /// <summary>
    /// Rows of the largest of the <paramref name="count"/> near-equal batches <see cref="Batches"/> splits
    /// <paramref name="rows"/> rows into: ⌈rows/count⌉ (2,049 rows in two batches: 1,025, not the 2,048 asked for).
    /// </summary>
    public static int LargestBatchRows(int rows, int count) => (rows + count - 1) / count;

    /// <summary>Splits a random permutation of the rows into <paramref name="count"/> near-equal batches (the set itself when 1).</summary>
    public IEnumerable<RowSet> Batches(int count, Random random)
    {
        if (count <= 1)
        {
            yield return Take(Count);
            yield break;
        }
        int[] shuffled = (int[])_rows.Clone();
        for (int i = shuffled.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
        }
        for (int b = 0; b < count; b++)
        {
            int start = (int)((long)b * shuffled.Length / count);
            int end = (int)((long)(b + 1) * shuffled.Length / count);
            yield return new RowSet(_features, _targets, _weights, _featureCount, _targetCount, shuffled[start..end]);
        }
    }

    public void Dispose()
    {
        Features.Dispose();
        Targets.Dispose();
        WeightedTargets.Dispose();
        Weights?.Dispose();
        _scales?.Dispose();
        _inputGram?.Dispose();
    }

    private static Tensor Gather(double[] source, int columns, int[] rows)
    {
        var values = new double[(long)rows.Length * columns];
        for (int i = 0; i < rows.Length; i++)
            Array.Copy(source, (long)rows[i] * columns, values, (long)i * columns, columns);
        return torch.tensor(values, new long[] { rows.Length, columns }, ScalarType.Float64);
    }
}
