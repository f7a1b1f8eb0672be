using System.Linq;
using System;
using MathNet.Numerics.Statistics;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

[TestClass]
public sealed class StandardizationTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void UnweightedStatisticsArePopulationMeanAndStandardDeviation()
    {
        var random = new Random(1);
        const int rows = 50;
        const int columns = 4;
        double[] values = Enumerable.Range(0, rows * columns).Select(i => (i % columns + 1) * (random.NextDouble() * 10 - 3)).ToArray();

        var (means, scales) = Standardization.ColumnStatistics(values, rows, columns, null);
        for (int j = 0; j < columns; j++)
        {
            double[] column = Enumerable.Range(0, rows).Select(i => values[i * columns + j]).ToArray();
            Assert.AreEqual(column.Mean(), means[j], 1e-13 * Math.Abs(column.Mean()) + 1e-15, $"mean {j}");
            Assert.AreEqual(column.PopulationStandardDeviation(), scales[j], 1e-13 * scales[j], $"sd {j}");
        }
    }

    [TestMethod]
    public void IndicatorsByRangeDivideTwoValuedColumnsByHalfTheirRange()
    {
        // Columns: a rare 0/1 indicator (2 of the 19 rows that count), a two-valued {2, 5} column, a three-valued column,
        // and a column whose third value sits only on the row of weight 0 (two values among the rows that count).
        const int rows = 20;
        const int columns = 4;
        var values = new double[rows * columns];
        var weights = Enumerable.Repeat(1.0, rows).ToArray();
        for (int i = 0; i < rows; i++)
        {
            values[i * columns] = i < 2 ? 1 : 0;
            values[i * columns + 1] = i % 3 == 0 ? 5 : 2;
            values[i * columns + 2] = i % 3;
            values[i * columns + 3] = i == rows - 1 ? 7 : i % 2;
        }
        weights[rows - 1] = 0;

        var (standardMeans, standardScales) = Standardization.ColumnStatistics(values, rows, columns, weights);
        var (means, scales) = Standardization.FeatureStatistics(values, rows, columns, weights, indicatorsByRange: true);
        CollectionAssert.AreEqual(standardMeans, means, "the centre stays the weighted mean");
        double p = 2.0 / 19;
        Assert.AreEqual(0.5, scales[0], "indicator: half of 1 − 0, not its standard deviation √(p(1 − p)) ≈ 0.31");
        Assert.AreEqual(Math.Sqrt(p * (1 - p)), standardScales[0], 1e-14);
        Assert.AreEqual(1.5, scales[1], "half of 5 − 2");
        Assert.AreEqual(standardScales[2], scales[2], "three values: standardised");
        Assert.AreEqual(0.5, scales[3], "the weight-0 row's third value does not count");

        var (_, unchanged) = Standardization.FeatureStatistics(values, rows, columns, weights, indicatorsByRange: false);
        CollectionAssert.AreEqual(standardScales, unchanged);
        Assert.IsNull(Standardization.TwoValues(new double[] { 3, 3, 3 }, 3, 1, 0, null), "one value is not two");
    }

    [TestMethod]
    public void IntegerWeightsEqualDuplicatedRows()
    {
        // Weighted statistics with integer weights w are the statistics of the rows repeated w times (MathNet, unweighted).
        var random = new Random(2);
        const int rows = 30;
        const int columns = 3;
        double[] values = Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() * 4 - 1).ToArray();
        int[] counts = Enumerable.Range(0, rows).Select(_ => random.Next(1, 5)).ToArray();
        double[] weights = counts.Select(c => (double)c).ToArray();

        var (means, scales) = Standardization.ColumnStatistics(values, rows, columns, weights);
        int[] repeated = Reference.RepeatIndices(counts);
        for (int j = 0; j < columns; j++)
        {
            double[] column = repeated.Select(i => values[i * columns + j]).ToArray();
            Assert.AreEqual(column.Mean(), means[j], 1e-13, $"weighted mean {j}");
            Assert.AreEqual(column.PopulationStandardDeviation(), scales[j], 1e-13 * scales[j], $"weighted sd {j}");
        }

        // Weights only matter relative to each other.
        var (scaledMeans, scaledScales) = Standardization.ColumnStatistics(values, rows, columns, weights.Select(w => 0.01 * w).ToArray());
        Dense.AssertWithin(Dense.RelativeError(means, scaledMeans), 1e-13, "means with weights ×0.01", TestContext);
        Dense.AssertWithin(Dense.RelativeError(scales, scaledScales), 1e-13, "scales with weights ×0.01", TestContext);
    }

    [TestMethod]
    public void ConstantAndNegligibleSpreadColumnsGetScaleOne()
    {
        const int rows = 6;
        // Columns: constant 3.5, constant −2e12, 1e12 plus a spread of 1e-3 (negligible against the magnitude), varied.
        double[] values = new double[rows * 4];
        for (int i = 0; i < rows; i++)
        {
            values[i * 4] = 3.5;
            values[i * 4 + 1] = -2e12;
            values[i * 4 + 2] = 1e12 + 1e-3 * (i % 2);
            values[i * 4 + 3] = i;
        }
        var (means, scales) = Standardization.ColumnStatistics(values, rows, 4, null);
        Assert.AreEqual(3.5, means[0]);
        Assert.AreEqual(-2e12, means[1]);
        CollectionAssert.AreEqual(new[] { 1.0, 1.0, 1.0 }, scales.Take(3).ToArray());
        Assert.AreEqual(Math.Sqrt(35.0 / 12), scales[3], 1e-14);

        double[] standardized = Standardization.Apply(values, rows, 4, means, scales);
        Assert.IsTrue(standardized.All(double.IsFinite));
        for (int i = 0; i < rows; i++)
        {
            Assert.AreEqual(0.0, standardized[i * 4]);
            Assert.AreEqual(0.0, standardized[i * 4 + 1]);
            Assert.AreEqual((i - 2.5) / Math.Sqrt(35.0 / 12), standardized[i * 4 + 3], 1e-14);
        }
    }

    /// <summary>
    /// A column of tiny but distinct values (features scaled by 1e-13 or less) is standardised like any other column,
    /// not mistaken for a constant one: the scale follows the values' own magnitude, not an absolute floor. Features reach
    /// the trainer as float32, so 1e-40 (a float32 subnormal) is the smallest magnitude that matters.
    /// </summary>
    [TestMethod]
    [DataRow(1e-13)]
    [DataRow(1e-30)]
    [DataRow(1e-40)]
    public void TinyButDistinctValuesAreNotConstant(double scale)
    {
        const int rows = 8;
        double[] values = Enumerable.Range(0, rows).Select(i => scale * (i - 3.5)).ToArray();
        double[] constant = Enumerable.Repeat(scale * 7, rows).ToArray();
        var (_, scales) = Standardization.ColumnStatistics(values, rows, 1, null);
        Assert.AreEqual(scale * Math.Sqrt(21.0 / 4), scales[0], 1e-12 * scale * Math.Sqrt(21.0 / 4));
        double[] standardized = Standardization.Apply(values, rows, 1, new[] { 0.0 }, scales);
        Assert.AreEqual((7 - 3.5) / Math.Sqrt(21.0 / 4), standardized[7], 1e-12);
        Assert.AreEqual(1.0, Standardization.ColumnStatistics(constant, rows, 1, null).Scales[0], "equal tiny values are a constant column");
    }

    [TestMethod]
    public void ZeroTotalWeightIsRejected()
    {
        double[] values = { 1, 2, 3 };
        Assert.ThrowsExactly<ArgumentException>(() => Standardization.ColumnStatistics(values, 3, 1, new double[] { 0, 0, 0 }));
    }
}
