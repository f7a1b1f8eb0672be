using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.Distributions;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Chooses and fits the normal scores appended to the features (docs/maths.md, "Normal scores"): for a column with more
/// than two distinct values, F(u) = (W(x &lt; u) + W(x = u)/2)/W is its mid-rank empirical distribution function under
/// the row weights, and its score Φ⁻¹(F) is kept when it correlates with the column as the network would otherwise see
/// it (compressed when skewed) below <see cref="MaximumCorrelation"/>: a score that is nearly a linear function of its
/// column (a Gaussian column's) adds no information, only a duplicate input.
/// </summary>
internal static class NormalScoreColumns
{
    /// <summary>
    /// A column's score is appended when its (weighted) correlation with the column is below this. A Gaussian column of
    /// 800 rows correlates 0.998–0.999 with its score, a uniform one about 0.977, a count or amount often below 0.9.
    /// </summary>
    public const double MaximumCorrelation = 0.99;

    /// <summary>
    /// About this many knots per score at most (the first and last training values always among them): with more distinct
    /// values, a value becomes a knot when its score is at least 1/(this − 1) of the scores' range above the last knot's.
    /// </summary>
    public const int MaximumKnots = 256;

    /// <summary>
    /// The scores to append for the row-major rows×columns <paramref name="features"/> under the row
    /// <paramref name="weights"/> (null: equal; rows of weight 0 do not count), given the columns' compression scales
    /// (null: none compressed); null when no column qualifies.
    /// </summary>
    public static NormalScores? Fit(double[] features, int rows, int columns, double[]? weights, double[]? compressionScales)
    {
        var columnsScored = new List<int>();
        var knots = new List<double[]>();
        var scores = new List<double[]>();
        for (int j = 0; j < columns; j++)
        {
            if (ColumnScore(features, rows, columns, j, weights) is not (double[] columnKnots, double[] columnScores))
                continue;
            double scale = compressionScales?[j] ?? 0;
            var seen = new double[rows];
            var scored = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                double value = features[(long)i * columns + j];
                seen[i] = FeatureCompression.Apply(value, scale);
                scored[i] = NormalScores.Score(value, columnKnots, columnScores);
            }
            if (WeightedCorrelation(seen, scored, weights) < MaximumCorrelation)
            {
                columnsScored.Add(j);
                knots.Add(columnKnots);
                scores.Add(columnScores);
            }
        }
        return columnsScored.Count == 0 ? null : new NormalScores(columns, columnsScored.ToArray(), knots.ToArray(), scores.ToArray());
    }

    /// <summary>The rows with their scores appended: rows × (d + m), row-major.</summary>
    public static double[] Append(double[] features, int rows, NormalScores map)
    {
        int d = map.FeatureCount, inputs = map.InputCount;
        var result = new double[(long)rows * inputs];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> row = features.AsSpan((int)((long)i * d), d);
            Span<double> target = result.AsSpan((int)((long)i * inputs), inputs);
            row.CopyTo(target);
            for (int k = 0; k < map.Columns.Length; k++)
                target[d + k] = map.Score(row, k);
        }
        return result;
    }

    /// <summary>
    /// The knots and scores of column <paramref name="column"/>: its distinct values under positive weight with
    /// Φ⁻¹ of their mid-rank F, thinned to about <paramref name="maximumKnots"/>; null for a column of at most two values.
    /// </summary>
    public static (double[] Knots, double[] Scores)? ColumnScore(double[] features, int rows, int columns, int column, double[]? weights,
        int maximumKnots = MaximumKnots)
    {
        var values = new List<(double Value, double Weight)>(rows);
        for (int i = 0; i < rows; i++)
        {
            double w = weights?[i] ?? 1.0;
            if (w > 0)
                values.Add((features[(long)i * columns + column], w));
        }
        values.Sort((a, b) => a.Value.CompareTo(b.Value));
        var distinct = new List<(double Value, double Weight)>();
        foreach (var (value, weight) in values)
        {
            if (distinct.Count > 0 && distinct[^1].Value == value)
                distinct[^1] = (value, distinct[^1].Weight + weight);
            else
                distinct.Add((value, weight));
        }
        if (distinct.Count <= 2)
            return null;
        double total = distinct.Sum(v => v.Weight);
        var allScores = new double[distinct.Count];
        double below = 0;
        for (int k = 0; k < distinct.Count; k++)
        {
            allScores[k] = Normal.InvCDF(0, 1, (below + distinct[k].Weight / 2) / total);
            below += distinct[k].Weight;
        }
        // Thinned, the knots are spaced evenly in the score, so that no segment spans more than 1/(K − 1) of its range:
        // the tails, where Φ⁻¹ is steep in F, keep their values one by one.
        double step = (allScores[^1] - allScores[0]) / (maximumKnots - 1);
        var knots = new List<double>();
        var scores = new List<double>();
        for (int k = 0; k < distinct.Count; k++)
        {
            bool keep = distinct.Count <= maximumKnots || k == 0 || k == distinct.Count - 1 || allScores[k] >= scores[^1] + step;
            if (keep)
            {
                knots.Add(distinct[k].Value);
                scores.Add(allScores[k]);
            }
        }
        return (knots.ToArray(), scores.ToArray());
    }

    /// <summary>
    /// The correlation of <paramref name="first"/> and <paramref name="second"/> under the row <paramref name="weights"/>
    /// (null: equal; rows of weight 0 do not count); 1 when either is constant.
    /// </summary>
    public static double WeightedCorrelation(double[] first, double[] second, double[]? weights)
    {
        double total = 0, meanA = 0, meanB = 0;
        for (int i = 0; i < first.Length; i++)
        {
            double w = weights?[i] ?? 1.0;
            if (!(w > 0))
                continue;
            total += w;
            meanA += w * first[i];
            meanB += w * second[i];
        }
        meanA /= total;
        meanB /= total;
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < first.Length; i++)
        {
            double w = weights?[i] ?? 1.0;
            if (!(w > 0))
                continue;
            double a = first[i] - meanA, b = second[i] - meanB;
            ab += w * a * b;
            aa += w * a * a;
            bb += w * b * b;
        }
        return aa > 0 && bb > 0 ? ab / Math.Sqrt(aa * bb) : 1.0;
    }
}
