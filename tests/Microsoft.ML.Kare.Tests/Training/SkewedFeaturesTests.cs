using System.Linq;
using System;
using MathNet.Numerics.Statistics;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// The choice of the feature columns compressed before standardisation (<see cref="SkewedFeatures"/>): which columns,
/// at which scale, under row weights, and the standardised rows the fit sees.
/// </summary>
[TestClass]
public sealed class SkewedFeaturesTests
{
    private const int Rows = 400;

    [TestMethod]
    public void SkewnessIsThePopulationSkewness()
    {
        var random = new Random(1);
        double[] column = Enumerable.Range(0, 200).Select(_ => Math.Exp(StandardNormal.Draw(random))).ToArray();
        double expected = column.PopulationSkewness();
        Assert.AreEqual(expected, SkewedFeatures.Skewness(column.Select(v => (v, 1.0)).ToArray()), 1e-12 * Math.Abs(expected));
        Assert.AreEqual(0, SkewedFeatures.Skewness(Enumerable.Repeat((3.0, 1.0), 10).ToArray()), "a constant column");
    }

    [TestMethod]
    public void IntegerWeightsEqualDuplicatedRows()
    {
        var random = new Random(2);
        double[] column = Enumerable.Range(0, 60).Select(_ => Math.Exp(1.5 * StandardNormal.Draw(random))).ToArray();
        int[] counts = column.Select(_ => random.Next(0, 4)).ToArray();
        double[] repeated = Reference.RepeatIndices(counts).Select(i => column[i]).ToArray();

        double weighted = SkewedFeatures.Skewness(column.Select((v, i) => (v, (double)counts[i])).Where(p => p.Item2 > 0).ToArray());
        Assert.AreEqual(repeated.PopulationSkewness(), weighted, 1e-12 * Math.Abs(weighted));

        double[] scales = SkewedFeatures.CompressionScales(column, column.Length, 1, counts.Select(c => (double)c).ToArray());
        double[] direct = SkewedFeatures.CompressionScales(repeated, repeated.Length, 1, null);
        Assert.AreEqual(direct[0], scales[0], "the weighted median of the magnitudes is the median of the repeated rows");
        Assert.IsGreaterThan(0, scales[0]);
    }

    [TestMethod]
    public void OnlyHeavyTailedColumnsWithMoreThanTwoValuesAreCompressed()
    {
        var random = new Random(3);
        // Columns: Gaussian, uniform, a rare indicator (skewness about 4), log-normal, zero-inflated exponential cubed,
        // a left-skewed column (negative skewness), and a log-normal shifted to take negative values.
        const int columns = 7;
        var values = new double[Rows * columns];
        for (int i = 0; i < Rows; i++)
        {
            values[i * columns + 0] = StandardNormal.Draw(random);
            values[i * columns + 1] = random.NextDouble();
            values[i * columns + 2] = random.NextDouble() < 0.06 ? 1 : 0;
            values[i * columns + 3] = 100 * Math.Exp(StandardNormal.Draw(random));
            values[i * columns + 4] = random.NextDouble() < 0.5 ? 0 : Math.Pow(-Math.Log(1 - random.NextDouble()), 3);
            values[i * columns + 5] = -Math.Exp(StandardNormal.Draw(random));
            values[i * columns + 6] = Math.Exp(StandardNormal.Draw(random)) - 1.5;
        }
        double[] scales = SkewedFeatures.CompressionScales(values, Rows, columns, null);

        for (int j = 0; j < columns; j++)
        {
            double[] column = Enumerable.Range(0, Rows).Select(i => values[i * columns + j]).ToArray();
            bool skewed = column.PopulationSkewness() > SkewedFeatures.MinimumSkewness && column.Distinct().Count() > 2;
            Assert.AreEqual(j is 3 or 4 or 6, skewed, $"column {j}: the data are as the test means them");
            if (!skewed)
            {
                Assert.AreEqual(0, scales[j], $"column {j} is kept");
                continue;
            }
            // The median of the non-zero magnitudes, the lower middle one at an even count.
            double[] magnitudes = column.Where(v => v != 0).Select(Math.Abs).OrderBy(v => v).ToArray();
            Assert.AreEqual(magnitudes[(magnitudes.Length - 1) / 2], scales[j], $"column {j}");
        }
    }

    [TestMethod]
    public void TheScaleFollowsTheColumnsUnitAndRowsOfWeightZeroDoNotCount()
    {
        var random = new Random(4);
        double[] column = Enumerable.Range(0, Rows).Select(_ => Math.Exp(1.2 * StandardNormal.Draw(random))).ToArray();
        double scale = SkewedFeatures.CompressionScales(column, Rows, 1, null)[0];
        Assert.IsGreaterThan(0, scale);
        Assert.AreEqual(1000 * scale, SkewedFeatures.CompressionScales(column.Select(v => 1000 * v).ToArray(), Rows, 1, null)[0], 1e-12 * 1000 * scale);

        // Rows of weight 0 may hold anything: the scale is that of the other rows.
        double[] padded = column.Concat(Enumerable.Repeat(1e9, 50)).ToArray();
        double[] weights = Enumerable.Repeat(1.0, Rows).Concat(Enumerable.Repeat(0.0, 50)).ToArray();
        Assert.AreEqual(scale, SkewedFeatures.CompressionScales(padded, padded.Length, 1, weights)[0]);
    }

    [TestMethod]
    public void StandardizedRowsCompressBeforeStandardizingWhenAsked()
    {
        var random = new Random(5);
        const int columns = 2;
        double[] features = Enumerable.Range(0, Rows).SelectMany(_ => new[] { StandardNormal.Draw(random), 50 * Math.Exp(1.5 * StandardNormal.Draw(random)) }).ToArray();
        double[] targets = Enumerable.Range(0, Rows).Select(i => features[i * columns]).ToArray();
        var data = new KareTrainingData(features, Rows, columns, targets, 1, null);

        StandardizedRows plain = StandardizedRows.Create(data);
        Assert.IsNull(plain.FeatureCompressionScales);
        StandardizedRows compressed = StandardizedRows.Create(data, compressSkewedFeatures: true);
        double[] scales = compressed.FeatureCompressionScales!;
        Assert.AreEqual(0, scales[0]);
        Assert.IsGreaterThan(0, scales[1]);

        // Independently: column 1 mapped by sign(x)·ln(1 + |x|/s), then standardised with MathNet's statistics.
        double[] mapped = Enumerable.Range(0, Rows).Select(i => Math.Log(1 + features[i * columns + 1] / scales[1])).ToArray();
        double mean = mapped.Mean(), sd = mapped.PopulationStandardDeviation();
        for (int i = 0; i < Rows; i++)
        {
            Assert.AreEqual((mapped[i] - mean) / sd, compressed.Features[i * columns + 1], 1e-12, $"row {i}");
            Assert.AreEqual(plain.Features[i * columns], compressed.Features[i * columns], 0, $"row {i}: the Gaussian column is untouched");
        }
        Assert.IsLessThan(SkewedFeatures.MinimumSkewness, Math.Abs(mapped.PopulationSkewness()), "the compressed column is no longer heavy-tailed");
    }

    [TestMethod]
    public void GaussianFeaturesAreNeverCompressed()
    {
        // The paper simulation's features: the rule must leave its fits exactly as they were.
        var random = new Random(6);
        const int columns = 10;
        double[] features = Enumerable.Range(0, 800 * columns).Select(_ => StandardNormal.Draw(random)).ToArray();
        Assert.IsTrue(SkewedFeatures.CompressionScales(features, 800, columns, null).All(s => s == 0));
    }
}
