using System.Linq;
using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>Weighted column means and standard deviations, used to standardise features and targets.</summary>
internal static class Standardization
{
    /// <summary>
    /// A column whose standard deviation is at most this fraction of its largest magnitude is constant: its values are
    /// equal up to rounding relative to their own size, whatever that size is.
    /// </summary>
    public const double ConstantColumnRelativeSpread = 1e-12;

    /// <summary>
    /// Means and scales of the columns of a row-major rows×columns matrix. A constant column (its values equal up to
    /// rounding relative to their own magnitude, <see cref="ConstantColumnRelativeSpread"/>) gets scale 1, so it
    /// standardises to zeros instead of dividing by zero; a column of tiny but distinct values is scaled like any other.
    /// </summary>
    public static (double[] Means, double[] Scales) ColumnStatistics(double[] values, int rows, int columns, double[]? weights)
    {
        var (means, squaredDeviations, totalWeight) = WeightedMeansAndSquaredDeviations(values, rows, columns, weights);
        var magnitudes = new double[columns];
        for (int i = 0; i < rows; i++)
        {
            if (!((weights?[i] ?? 1.0) > 0))
                continue;
            for (int j = 0; j < columns; j++)
                magnitudes[j] = Math.Max(magnitudes[j], Math.Abs(values[(long)i * columns + j]));
        }
        var scales = new double[columns];
        for (int j = 0; j < columns; j++)
        {
            double sd = Math.Sqrt(squaredDeviations[j] / totalWeight);
            scales[j] = sd > ConstantColumnRelativeSpread * magnitudes[j] && double.IsFinite(sd) ? sd : 1.0;
        }
        return (means, scales);
    }

    /// <summary>
    /// Per column of a row-major rows×columns matrix: the weighted mean m_j = Σ w_i x_ij / W, the weighted sum of squared
    /// deviations Σ w_i (x_ij − m_j)², and W = Σ w_i (weights null: all 1); throws when W is not positive.
    /// </summary>
    public static (double[] Means, double[] SquaredDeviations, double TotalWeight) WeightedMeansAndSquaredDeviations(double[] values, int rows, int columns,
        double[]? weights)
    {
        var means = new double[columns];
        var squaredDeviations = new double[columns];
        double totalWeight = 0;
        for (int i = 0; i < rows; i++)
            totalWeight += weights?[i] ?? 1.0;
        if (!(totalWeight > 0))
            throw new ArgumentException("The example weights sum to zero.", nameof(weights));

        for (int i = 0; i < rows; i++)
        {
            double w = weights?[i] ?? 1.0;
            for (int j = 0; j < columns; j++)
                means[j] += w * values[(long)i * columns + j];
        }
        for (int j = 0; j < columns; j++)
            means[j] /= totalWeight;

        for (int i = 0; i < rows; i++)
        {
            double w = weights?[i] ?? 1.0;
            for (int j = 0; j < columns; j++)
            {
                double centred = values[(long)i * columns + j] - means[j];
                squaredDeviations[j] += w * centred * centred;
            }
        }
        return (means, squaredDeviations, totalWeight);
    }

    /// <summary>
    /// The feature columns' means and scales: <see cref="ColumnStatistics"/>, except that with
    /// <paramref name="indicatorsByRange"/> a column with exactly two values among the rows of positive weight (an
    /// indicator) is divided by half the distance between them (docs/maths.md, "Standardisation and weights").
    /// </summary>
    public static (double[] Means, double[] Scales) FeatureStatistics(double[] values, int rows, int columns, double[]? weights, bool indicatorsByRange)
    {
        var (means, scales) = ColumnStatistics(values, rows, columns, weights);
        if (!indicatorsByRange)
            return (means, scales);
        for (int j = 0; j < columns; j++)
        {
            if (TwoValues(values, rows, columns, j, weights) is (double low, double high))
                scales[j] = (high - low) / 2;
        }
        return (means, scales);
    }

    /// <summary>The column's two values, lower first, when it has exactly two among the rows of positive weight; else null.</summary>
    public static (double Low, double High)? TwoValues(double[] values, int rows, int columns, int column, double[]? weights)
    {
        double first = double.NaN, second = double.NaN;
        for (int i = 0; i < rows; i++)
        {
            if (!((weights?[i] ?? 1.0) > 0))
                continue;
            double value = values[(long)i * columns + column];
            if (double.IsNaN(first) || value == first)
                first = value;
            else if (double.IsNaN(second) || value == second)
                second = value;
            else
                return null;
        }
        return double.IsNaN(second) ? null : (Math.Min(first, second), Math.Max(first, second));
    }

    /// <summary>
    /// Row weights divided by their mean (so that weighted kernels keep their scale), or null for null; throws when the
    /// mean is not positive and finite.
    /// </summary>
    public static double[]? NormalizedWeights(double[]? weights)
    {
        if (weights is null)
            return null;
        double mean = weights.Average();
        if (!(mean > 0) || !double.IsFinite(mean))
            throw new ArgumentException("The example weights must have a positive, finite mean.", nameof(weights));
        return weights.Select(w => w / mean).ToArray();
    }

    /// <summary>Returns (values − mean)/scale column by column, as a new array.</summary>
    public static double[] Apply(double[] values, int rows, int columns, double[] means, double[] scales)
    {
        var result = new double[values.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                long k = (long)i * columns + j;
                result[k] = (values[k] - means[j]) / scales[j];
            }
        }
        return result;
    }
}
