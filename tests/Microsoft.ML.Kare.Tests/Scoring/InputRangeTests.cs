using System.Linq;
using System;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>The training range of the network's inputs (<see cref="InputRange"/>) and the scorer's clipping to it.</summary>
[TestClass]
public sealed class InputRangeTests
{
    private const int InputCount = 3;

    [TestMethod]
    public void TheRangeIsEachColumnsExtremesAndClippingKeepsNaN()
    {
        var random = new Random(4);
        const int rows = 37;
        double[] inputs = Enumerable.Range(0, rows * InputCount).Select(_ => 6 * random.NextDouble() - 3).ToArray();
        InputRange range = InputRange.Of(inputs, rows, InputCount);
        for (int j = 0; j < InputCount; j++)
        {
            double[] column = Enumerable.Range(0, rows).Select(i => inputs[i * InputCount + j]).ToArray();
            Assert.AreEqual(column.Min(), range.Lower[j]);
            Assert.AreEqual(column.Max(), range.Upper[j]);
            Assert.AreEqual(range.Lower[j], range.Clip(range.Lower[j] - 10, j));
            Assert.AreEqual(range.Upper[j], range.Clip(double.PositiveInfinity, j));
            Assert.AreEqual(column[5], range.Clip(column[5], j), "a training value is inside its range");
            Assert.IsTrue(double.IsNaN(range.Clip(double.NaN, j)), "a missing value stays missing");
        }

        Assert.IsNull(InputRange.FindProblem(null, InputCount));
        Assert.IsNull(InputRange.FindProblem(range, InputCount));
        Assert.IsNotNull(InputRange.FindProblem(range, InputCount + 1));
        Assert.IsNotNull(InputRange.FindProblem(new InputRange(new[] { 0.0, 1, 0 }, new[] { 1.0, 0, 1 }), InputCount), "lower above upper");
        Assert.IsNotNull(InputRange.FindProblem(new InputRange(new[] { 0.0, double.NaN, 0 }, new[] { 1.0, 1, 1 }), InputCount));
        Assert.ThrowsExactly<ArgumentException>(() => InputRange.Of(Array.Empty<double>(), 0, InputCount));
    }

    [TestMethod]
    public void TheScorerClipsEachStandardisedInputToItsRange()
    {
        // Independent path: the same network without a range, fed the raw row whose out-of-range values were moved to
        // the raw value of the nearest bound, μ + σ·bound (float rounding of that value: about 1e-7 relative).
        var architecture = new KareNetworkArchitecture(InputCount, new[] { 6, 4 }, KareActivation.Gelu);
        var random = new Random(8);
        int p = (int)architecture.ParameterCount;
        double[] theta = Dense.Gaussian(1, p, random, 0.5).Row(0).ToArray(), beta = Dense.Gaussian(1, 2 * p, random, 0.1).Row(0).ToArray();
        double[] means = { 0.3, -1, 2 }, scales = { 1.5, 0.7, 2 };
        double[] targetMeans = { 1, -2 }, targetScales = { 3, 0.5 };
        var range = new InputRange(new[] { -1.0, -2, -0.5 }, new[] { 1.5, 2, 0.25 });
        var clipping = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales, inputRange: range);
        var plain = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales);

        var expected = new float[2];
        var actual = new float[2];
        int clippedRows = 0;
        for (int row = 0; row < 60; row++)
        {
            float[] x = Enumerable.Range(0, InputCount).Select(j => (float)(means[j] + scales[j] * (8 * random.NextDouble() - 4))).ToArray();
            double[] z = x.Select((v, j) => (v - means[j]) / scales[j]).ToArray();
            bool inside = z.Select((v, j) => v >= range.Lower[j] && v <= range.Upper[j]).All(b => b);
            float[] moved = x.Select((v, j) => z[j] < range.Lower[j] ? (float)(means[j] + scales[j] * range.Lower[j])
                : z[j] > range.Upper[j] ? (float)(means[j] + scales[j] * range.Upper[j]) : v).ToArray();
            clipping.Score(x, actual);
            plain.Score(moved, expected);
            for (int k = 0; k < 2; k++)
            {
                if (inside)
                    Assert.AreEqual(expected[k], actual[k], $"row {row} is inside the range: scored as without it");
                else
                    Assert.AreEqual(expected[k], actual[k], 1e-5 * (Math.Abs(expected[k]) + targetScales[k]), $"row {row}, output {k}");
            }
            clippedRows += inside ? 0 : 1;
        }
        Assert.IsGreaterThan(30, clippedRows, "most rows have an input outside the range");
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales,
            inputRange: new InputRange(new double[2], new double[2])));
    }
}
