using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Chooses which feature columns to compress before standardisation (docs/maths.md, "Skewed features"): a column with
/// more than two distinct values whose (weighted) skewness exceeds <see cref="MinimumSkewness"/> gets the compression
/// scale s = the weighted median of its non-zero magnitudes, so that x ↦ sign(x)·ln(1 + |x|/s)
/// (<see cref="FeatureCompression"/>) is close to linear for typical values and logarithmic in the tail. Every other
/// column gets 0 (kept as it is). The rule depends on the column's shape only: rescaling a column rescales its s.
/// </summary>
internal static class SkewedFeatures
{
    /// <summary>
    /// Skewness above which a column is compressed: 2 is the skewness of the exponential distribution. Gaussian and
    /// uniform columns (0) and two-valued columns (one-hot, indicators: their standardisation is the same whatever
    /// monotone map precedes it) are never compressed.
    /// </summary>
    public const double MinimumSkewness = 2.0;

    /// <summary>
    /// The compression scale of each column of the row-major rows×columns <paramref name="values"/> (0: not compressed),
    /// under the row <paramref name="weights"/> (null: equal; rows of weight 0 do not count); columns before
    /// <paramref name="firstColumn"/> are not examined and get 0 (their scales are known: appended normal scores).
    /// </summary>
    public static double[] CompressionScales(double[] values, int rows, int columns, double[]? weights, int firstColumn = 0)
    {
        var scales = new double[columns];
        var column = new List<(double Value, double Weight)>(rows);
        for (int j = firstColumn; j < columns; j++)
        {
            column.Clear();
            for (int i = 0; i < rows; i++)
            {
                double w = weights?[i] ?? 1.0;
                if (w > 0)
                    column.Add((values[(long)i * columns + j], w));
            }
            if (HasMoreThanTwoValues(column) && Skewness(column) > MinimumSkewness)
                scales[j] = MedianNonZeroMagnitude(column);
        }
        return scales;
    }

    /// <summary>The weighted sample skewness E[(x − m)³]/E[(x − m)²]^1.5; 0 for a constant column.</summary>
    public static double Skewness(IReadOnlyList<(double Value, double Weight)> column)
    {
        double total = 0, mean = 0;
        foreach (var (value, weight) in column)
        {
            total += weight;
            mean += weight * value;
        }
        if (!(total > 0))
            return 0;
        mean /= total;
        double second = 0, third = 0;
        foreach (var (value, weight) in column)
        {
            double centred = value - mean;
            second += weight * centred * centred;
            third += weight * centred * centred * centred;
        }
        second /= total;
        third /= total;
        double skewness = third / Math.Pow(second, 1.5);
        return second > 0 && double.IsFinite(skewness) ? skewness : 0;
    }

    private static bool HasMoreThanTwoValues(List<(double Value, double Weight)> column)
    {
        if (column.Count < 3)
            return false;
        double first = column[0].Value, second = first;
        foreach (var (value, _) in column)
        {
            if (value == first || value == second)
                continue;
            if (second != first)
                return true;
            second = value;
        }
        return false;
    }

    /// <summary>The weighted median of |x| over the non-zero x (the lower middle value at an even split); 0 when all are 0.</summary>
    private static double MedianNonZeroMagnitude(List<(double Value, double Weight)> column)
    {
        var magnitudes = new List<(double Magnitude, double Weight)>(column.Count);
        double total = 0;
        foreach (var (value, weight) in column)
        {
            if (value != 0)
            {
                magnitudes.Add((Math.Abs(value), weight));
                total += weight;
            }
        }
        if (magnitudes.Count == 0)
            return 0;
        magnitudes.Sort((a, b) => a.Magnitude.CompareTo(b.Magnitude));
        double cumulative = 0;
        foreach (var (magnitude, weight) in magnitudes)
        {
            cumulative += weight;
            if (cumulative >= total / 2)
                return double.IsFinite(magnitude) ? magnitude : 0;
        }
        return magnitudes[^1].Magnitude;
    }
}
