using System;
using System.Linq;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>The normal scores a model appends to its features (<see cref="NormalScores"/>) and the scorer's use of them.</summary>
[TestClass]
public sealed class NormalScoresTests
{
    private static readonly double[] Knots = { -1, 0, 2, 10 };
    private static readonly double[] ScoresAtKnots = { -1.2, -0.3, 0.4, 1.5 };

    [TestMethod]
    public void TheMapPassesThroughTheKnotsIsLinearBetweenAndConstantBeyond()
    {
        for (int k = 0; k < Knots.Length; k++)
            Assert.AreEqual(ScoresAtKnots[k], NormalScores.Score(Knots[k], Knots, ScoresAtKnots), 0, $"knot {k}");
        Assert.AreEqual(-0.3 + 0.25 * 0.7, NormalScores.Score(0.5, Knots, ScoresAtKnots), 1e-15);
        Assert.AreEqual(0.4 + 0.5 * 1.1, NormalScores.Score(6, Knots, ScoresAtKnots), 1e-15);
        Assert.AreEqual(-1.2, NormalScores.Score(-1e30, Knots, ScoresAtKnots));
        Assert.AreEqual(1.5, NormalScores.Score(double.PositiveInfinity, Knots, ScoresAtKnots));
        Assert.IsTrue(double.IsNaN(NormalScores.Score(double.NaN, Knots, ScoresAtKnots)));
    }

    [TestMethod]
    public void InconsistentScoresAreNamed()
    {
        Assert.IsNull(NormalScores.FindProblem(null, 4));
        Assert.IsNull(NormalScores.FindProblem(Map(new[] { 1 }, Knots, ScoresAtKnots), 4));
        StringAssert.Contains(NormalScores.FindProblem(Map(new[] { 1 }, Knots, ScoresAtKnots), 5), "network of 5 inputs");
        StringAssert.Contains(NormalScores.FindProblem(Map(new[] { 3 }, Knots, ScoresAtKnots), 4), "out of order or range");
        StringAssert.Contains(NormalScores.FindProblem(Map(new[] { 1 }, new double[] { 0, 2, 1, 3 }, ScoresAtKnots), 4), "knot 2 of the normal score of feature 1");
        StringAssert.Contains(NormalScores.FindProblem(Map(new[] { 1 }, Knots, new[] { 0, 1, 0.5, 2 }), 4), "out of order");
        StringAssert.Contains(NormalScores.FindProblem(Map(new[] { 1 }, Knots, new[] { 0, 1, double.NaN, 2 }), 4), "not finite");
        StringAssert.Contains(NormalScores.FindProblem(Map(new[] { 1 }, new double[] { 0 }, new double[] { 0 }), 4), "at least two knots");
    }

    /// <summary>Three features, the scores of features 0 and 2 appended: five network inputs.</summary>
    private static NormalScores Map(int[] columns, double[] knots, double[] scores)
        => new(3, columns, columns.Select(_ => knots).ToArray(), columns.Select(_ => scores).ToArray());

    [TestMethod]
    public void TheScorerAppendsTheScoresBeforeCompressingAndStandardising()
    {
        // Independent path: the same network without scores, fed the rows with their scores appended by hand.
        var architecture = new KareNetworkArchitecture(5, new[] { 6, 4 }, KareActivation.Gelu);
        var random = new Random(11);
        int p = (int)architecture.ParameterCount;
        double[] theta = Dense.Gaussian(1, p, random, 0.5).Row(0).ToArray(), beta = Dense.Gaussian(1, 2 * p, random, 0.1).Row(0).ToArray();
        double[] means = { 0.3, -1, 2, 0.1, -0.2 }, scales = { 1.5, 0.7, 2, 0.9, 1.1 }, compression = { 4, 0, 0.5, 0, 0 };
        double[] targetMeans = { 1, -2 }, targetScales = { 3, 0.5 };
        var map = new NormalScores(3, new[] { 0, 2 }, new[] { Knots, new double[] { 0, 5, 50 } }, new[] { ScoresAtKnots, new[] { -1.0, 0, 1 } });
        var scoring = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales, featureCompressionScales: compression, normalScores: map);
        var plain = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales, featureCompressionScales: compression);
        Assert.AreEqual(3, scoring.InputCount, "a row has the three features");

        var expected = new float[2];
        var actual = new float[2];
        for (int row = 0; row < 50; row++)
        {
            float[] x = Enumerable.Range(0, 3).Select(_ => (float)(30 * random.NextDouble() - 5)).ToArray();
            float[] appended = x.Concat(new[] { (float)NormalScores.Score(x[0], Knots, ScoresAtKnots), (float)NormalScores.Score(x[2], map.Knots[1], map.Scores[1]) }).ToArray();
            scoring.Score(x, actual);
            plain.Score(appended, expected);
            for (int k = 0; k < 2; k++)
                Assert.AreEqual(expected[k], actual[k], 1e-5 * Math.Max(1, Math.Abs(expected[k])), $"row {row}, output {k}");
        }
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(new KareNetworkArchitecture(4, new[] { 6 }, KareActivation.Gelu),
            new double[(int)new KareNetworkArchitecture(4, new[] { 6 }, KareActivation.Gelu).ParameterCount], new double[(int)new KareNetworkArchitecture(4, new[] { 6 }, KareActivation.Gelu).ParameterCount],
            new double[4], new[] { 1.0, 1, 1, 1 }, new[] { 0.0 }, new[] { 1.0 }, normalScores: map), "five inputs' scores for a four-input network");
    }
}
