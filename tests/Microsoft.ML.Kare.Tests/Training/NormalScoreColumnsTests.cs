using System;
using System.Linq;
using MathNet.Numerics;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>Which columns get normal scores, and their knots and scores (<see cref="NormalScoreColumns"/>).</summary>
[TestClass]
public sealed class NormalScoreColumnsTests
{
    /// <summary>Φ(x) by the error function, independent of the inverse the scores use.</summary>
    private static double NormalCdf(double x) => 0.5 * (1 + SpecialFunctions.Erf(x / Math.Sqrt(2)));

    [TestMethod]
    public void ScoresAreTheInverseNormalOfTheMidRanks()
    {
        double[] column = { 3, 1, 2, 2, 5 };
        var (knots, scores) = NormalScoreColumns.ColumnScore(column, 5, 1, 0, weights: null)!.Value;
        CollectionAssert.AreEqual(new double[] { 1, 2, 3, 5 }, knots);
        // Mid-ranks counted by hand: below + half the ties, over 5 rows.
        double[] expected = { 0.5 / 5, (1 + 1.0) / 5, (3 + 0.5) / 5, (4 + 0.5) / 5 };
        for (int k = 0; k < 4; k++)
            Assert.AreEqual(expected[k], NormalCdf(scores[k]), 1e-12, $"knot {knots[k]}");
        Assert.IsNull(NormalScoreColumns.ColumnScore(new double[] { 0, 1, 1, 0 }, 4, 1, 0, null), "two values: no score");
    }

    [TestMethod]
    public void AWeightCountsAsRepeatedRowsAndZeroWeightRowsDoNotCount()
    {
        double[] column = { 4, 1, 2, 7, 9 };
        double[] weights = { 2, 1, 3, 1, 0 };
        double[] repeated = { 4, 4, 1, 2, 2, 2, 7 };
        var weighted = NormalScoreColumns.ColumnScore(column, 5, 1, 0, weights)!.Value;
        var plain = NormalScoreColumns.ColumnScore(repeated, repeated.Length, 1, 0, null)!.Value;
        CollectionAssert.AreEqual(plain.Knots, weighted.Knots);
        for (int k = 0; k < plain.Scores.Length; k++)
            Assert.AreEqual(plain.Scores[k], weighted.Scores[k], 1e-12);
    }

    [TestMethod]
    public void ManyValuesAreThinnedToKnotsEvenInTheScore()
    {
        const int Rows = 3000;
        var random = new Random(2);
        double[] column = Enumerable.Range(0, Rows).Select(_ => Math.Exp(2 * random.NextDouble())).ToArray();
        var (knots, scores) = NormalScoreColumns.ColumnScore(column, Rows, 1, 0, null)!.Value;
        Assert.IsLessThanOrEqualTo(NormalScoreColumns.MaximumKnots + 1, knots.Length);
        Assert.IsGreaterThan(NormalScoreColumns.MaximumKnots / 2, knots.Length);
        Assert.AreEqual(column.Min(), knots[0]);
        Assert.AreEqual(column.Max(), knots[^1]);
        // Every row's interpolated score is close to its own mid-rank score (all values distinct: F = (rank + 1/2)/n).
        double[] sorted = column.Order().ToArray();
        double worst = 0;
        for (int i = 0; i < Rows; i++)
        {
            double exact = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, (i + 0.5) / Rows);
            worst = Math.Max(worst, Math.Abs(NormalScores.Score(sorted[i], knots, scores) - exact));
        }
        Assert.IsLessThan(0.03, worst, "the thinned map stays within one step of the scores' range/255 of every row's score");

        // Without a limit every distinct value is a knot with its own mid-rank score (the benchmark's prototype map).
        var (allKnots, allScores) = NormalScoreColumns.ColumnScore(column, Rows, 1, 0, null, maximumKnots: int.MaxValue)!.Value;
        Assert.HasCount(Rows, allKnots);
        for (int i = 0; i < Rows; i++)
        {
            Assert.AreEqual(sorted[i], allKnots[i]);
            Assert.AreEqual(MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, (i + 0.5) / Rows), allScores[i], 1e-12);
        }
    }

    [TestMethod]
    public void OnlyScoresThatAreNotNearlyTheirColumnAreAppended()
    {
        const int Rows = 800;
        var random = new Random(4);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        // Columns: Gaussian (its score is itself), uniform, an indicator, exponential (skewed, 2.0), Gaussian.
        var rows = Enumerable.Range(0, Rows).Select(_ => new[] { Gaussian(), random.NextDouble(), random.Next(2), -Math.Log(1 - random.NextDouble()), Gaussian() }).ToArray();
        double[] features = rows.SelectMany(r => r).ToArray();
        NormalScores map = NormalScoreColumns.Fit(features, Rows, 5, weights: null, compressionScales: null)!;
        CollectionAssert.AreEqual(new[] { 1, 3 }, map.Columns);
        Assert.AreEqual(7, map.InputCount);

        double[] appended = NormalScoreColumns.Append(features, Rows, map);
        for (int i = 0; i < Rows; i += 97)
        {
            for (int j = 0; j < 5; j++)
                Assert.AreEqual(rows[i][j], appended[i * 7 + j], $"row {i}: the features come first");
            Assert.AreEqual(NormalScores.Score(rows[i][1], map.Knots[0], map.Scores[0]), appended[i * 7 + 5]);
            Assert.AreEqual(NormalScores.Score(rows[i][3], map.Knots[1], map.Scores[1]), appended[i * 7 + 6]);
        }
        Assert.IsNull(NormalScoreColumns.Fit(rows.SelectMany(r => new[] { r[0], r[2] }).ToArray(), Rows, 2, null, null), "nothing to append");
    }
}
