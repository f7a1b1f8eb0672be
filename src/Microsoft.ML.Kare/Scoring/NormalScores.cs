using System;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// The normal scores a model appends to its features (docs/maths.md, "Normal scores"). For each scored column the model
/// keeps knots u_1 &lt; … &lt; u_K (values of the column on the training rows) and their scores s_k = Φ⁻¹(F(u_k)), F the
/// column's mid-rank empirical distribution function; a value x scores s_1 at or below u_1, s_K at or above u_K, and
/// linearly between neighbouring knots (NaN stays NaN). The network's inputs are the d features followed by the scores of
/// the scored columns, in column order; both then go through the compression and standardisation of every input.
/// </summary>
internal sealed class NormalScores
{
    /// <param name="featureCount">The number of features d the model is given.</param>
    /// <param name="columns">The scored feature columns, increasing.</param>
    /// <param name="knots">Per scored column, its knots (increasing).</param>
    /// <param name="scores">Per scored column, the knots' scores (non-decreasing).</param>
    public NormalScores(int featureCount, int[] columns, double[][] knots, double[][] scores)
    {
        FeatureCount = featureCount;
        Columns = columns;
        Knots = knots;
        Scores = scores;
    }

    /// <summary>The number of features d the model is given.</summary>
    public int FeatureCount { get; }

    /// <summary>The scored feature columns, increasing: input d + k is the score of column <c>Columns[k]</c>.</summary>
    public int[] Columns { get; }

    public double[][] Knots { get; }

    public double[][] Scores { get; }

    /// <summary>The number of the network's inputs: the features and the scores.</summary>
    public int InputCount => FeatureCount + Columns.Length;

    /// <summary>The score of <paramref name="value"/> on the piecewise-linear map through the knots.</summary>
    public static double Score(double value, double[] knots, double[] scores)
    {
        if (double.IsNaN(value))
            return double.NaN;
        if (value <= knots[0])
            return scores[0];
        if (value >= knots[^1])
            return scores[^1];
        int found = Array.BinarySearch(knots, value);
        if (found >= 0)
            return scores[found];
        int upper = ~found; // knots[upper − 1] < value < knots[upper]
        double t = (value - knots[upper - 1]) / (knots[upper] - knots[upper - 1]);
        return scores[upper - 1] + t * (scores[upper] - scores[upper - 1]);
    }

    /// <summary>The score of input <c>d + <paramref name="scored"/></c> for a row whose features are <paramref name="features"/>.</summary>
    public double Score(ReadOnlySpan<float> features, int scored) => Score(features[Columns[scored]], Knots[scored], Scores[scored]);

    /// <summary>The same for a row of double features.</summary>
    public double Score(ReadOnlySpan<double> features, int scored) => Score(features[Columns[scored]], Knots[scored], Scores[scored]);

    /// <summary>
    /// Null when <paramref name="map"/> is null or consistent with a network of <paramref name="inputCount"/> inputs;
    /// otherwise the description of its first problem.
    /// </summary>
    public static string? FindProblem(NormalScores? map, int inputCount)
    {
        if (map is null)
            return null;
        if (map.Columns is null || map.Knots is null || map.Scores is null)
            return "has incomplete normal scores";
        int count = map.Columns.Length;
        if (map.FeatureCount < 1 || map.FeatureCount + count != inputCount)
            return $"has {map.FeatureCount} features and {count} normal scores for a network of {inputCount} inputs";
        if (map.Knots.Length != count || map.Scores.Length != count)
            return $"needs knots and scores for each of its {count} normal scores";
        for (int k = 0; k < count; k++)
        {
            int column = map.Columns[k];
            if (column < 0 || column >= map.FeatureCount || k > 0 && column <= map.Columns[k - 1])
                return $"has normal score columns out of order or range (column {column})";
            double[] knots = map.Knots[k], scores = map.Scores[k];
            if (knots is null || scores is null || knots.Length < 2 || scores.Length != knots.Length)
                return $"needs at least two knots and a score for each in the normal score of feature {column}";
            for (int i = 0; i < knots.Length; i++)
            {
                if (!double.IsFinite(knots[i]) || !double.IsFinite(scores[i]) || i > 0 && (knots[i] <= knots[i - 1] || scores[i] < scores[i - 1]))
                    return $"has knot {i} of the normal score of feature {column} ({knots[i]}, score {scores[i]}) not finite or out of order";
            }
        }
        return null;
    }
}
