using System;
using System.Linq;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

[TestClass]
public sealed class InputRelevanceTests
{
    /// <summary>
    /// The correlation ratio against a direct computation from its definition: group the rows by bin (by value for a
    /// discrete column, by rank tenths for a continuous one), the between-bin share of each target's variance, adjusted
    /// for the bins' count, floored at 0 and averaged over the targets.
    /// </summary>
    [TestMethod]
    public void CorrelationRatiosMatchTheirDefinition()
    {
        var random = new Random(3);
        const int rows = 157;
        const int columns = 4;
        const int targetCount = 2;
        var features = new double[rows * columns];
        var targets = new double[rows * targetCount];
        for (int i = 0; i < rows; i++)
        {
            features[i * columns] = random.Next(3);                 // three levels
            features[i * columns + 1] = random.NextDouble() * 4 - 2; // continuous, all distinct
            features[i * columns + 2] = random.Next(2);             // an indicator
            features[i * columns + 3] = random.NextDouble();        // noise
            targets[i * targetCount] = features[i * columns] + Math.Sin(2 * features[i * columns + 1]) + random.NextDouble();
            targets[i * targetCount + 1] = features[i * columns + 2] * features[i * columns + 1] + random.NextDouble();
        }

        double[] ratios = InputRelevance.CorrelationRatios(features, rows, columns, targets, targetCount, weights: null).Ratios;
        for (int j = 0; j < columns; j++)
        {
            double[] column = Enumerable.Range(0, rows).Select(i => features[i * columns + j]).ToArray();
            int[] bins = column.Distinct().Count() <= InputRelevance.MaximumBins
                ? column.Select(v => column.Distinct().OrderBy(u => u).ToList().IndexOf(v)).ToArray()
                : column.Select(v => column.Count(u => u < v) * InputRelevance.MaximumBins / rows).ToArray();
            int binCount = bins.Max() + 1;
            double expected = 0;
            for (int k = 0; k < targetCount; k++)
            {
                double[] y = Enumerable.Range(0, rows).Select(i => targets[i * targetCount + k]).ToArray();
                double mean = y.Average();
                double total = y.Sum(v => (v - mean) * (v - mean));
                double between = Enumerable.Range(0, rows).GroupBy(i => bins[i])
                    .Sum(g => g.Count() * Math.Pow(g.Average(i => y[i]) - mean, 2));
                double ratio = between / total;
                expected += Math.Max(0, 1 - (1 - ratio) * (rows - 1) / (rows - binCount));
            }
            expected /= targetCount;
            Assert.AreEqual(expected, ratios[j], 1e-12, $"column {j}");
        }
        Assert.IsGreaterThan(0.2, ratios[0], "the three-level column drives the first target");
        Assert.IsLessThan(0.02, ratios[3], "noise explains almost nothing once adjusted for its bins");
    }

    /// <summary>Integer row weights count as repeated rows (a discrete column's bins do not depend on ranks).</summary>
    [TestMethod]
    public void IntegerWeightsEqualRepeatedRows()
    {
        var random = new Random(5);
        const int rows = 60;
        const int columns = 2;
        var features = new double[rows * columns];
        var targets = new double[rows];
        var weights = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            features[i * columns] = random.Next(4);
            features[i * columns + 1] = random.Next(2);
            targets[i] = features[i * columns] * 0.5 + features[i * columns + 1] * 0.3 + random.NextDouble();
            weights[i] = 1 + random.Next(3);
        }
        int repeatedRows = (int)weights.Sum();
        var repeatedFeatures = new double[repeatedRows * columns];
        var repeatedTargets = new double[repeatedRows];
        int r = 0;
        for (int i = 0; i < rows; i++)
        {
            for (int copy = 0; copy < weights[i]; copy++, r++)
            {
                repeatedFeatures[r * columns] = features[i * columns];
                repeatedFeatures[r * columns + 1] = features[i * columns + 1];
                repeatedTargets[r] = targets[i];
            }
        }

        double[] weighted = InputRelevance.CorrelationRatios(features, rows, columns, targets, 1, weights).Ratios;
        double[] repeated = InputRelevance.CorrelationRatios(repeatedFeatures, repeatedRows, columns, repeatedTargets, 1, weights: null).Ratios;
        // The bias adjustment counts effective rows, (Σw)²/Σw², so it is smaller for weights than for copies; undo it.
        double effective = weights.Sum() * weights.Sum() / weights.Sum(w => w * w);
        for (int j = 0; j < columns; j++)
        {
            int bins = j == 0 ? 4 : 2;
            double fromWeighted = 1 - (1 - weighted[j]) * (effective - bins) / (effective - 1);
            double fromRepeated = 1 - (1 - repeated[j]) * (repeatedRows - bins) / (repeatedRows - 1);
            Assert.AreEqual(fromRepeated, fromWeighted, 1e-12, $"column {j}: the unadjusted correlation ratio");
        }
    }

    [TestMethod]
    public void WeightsFavourRelevantColumnsAndKeepTheTotalScale()
    {
        var random = new Random(7);
        const int rows = 400;
        const int columns = 6;
        var features = new double[rows * columns];
        var targets = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
                features[i * columns + j] = random.NextDouble() * 2 - 1;
            targets[i] = Math.Cos(3 * features[i * columns]) + 0.5 * features[i * columns + 1] + 0.05 * random.NextDouble();
        }

        double[] weights = InputRelevance.Weights(features, rows, columns, targets, 1, weights: null, indicatorsOnly: false)!;
        Assert.AreEqual(1.0, weights.Average(w => w * w), 1e-12, "mean of w² is 1");
        Assert.IsTrue(weights.Skip(2).All(w => w < weights[1] && w < 0.6), string.Join(", ", weights));
        Assert.IsGreaterThan(weights[1], weights[0], "cos(3x) has no linear trend but the largest correlation ratio");
        Assert.IsTrue(weights.All(w => w >= Math.Sqrt(InputRelevance.UniformShare) - 1e-12), "every column keeps √a");
    }

    /// <summary>With indicatorsOnly the other columns keep weight 1 and the indicators' mean of w² is 1 among themselves.</summary>
    [TestMethod]
    public void IndicatorsOnlyWeightsTheTwoValuedColumnsAmongThemselves()
    {
        var random = new Random(11);
        const int rows = 300;
        const int columns = 4;
        var features = new double[rows * columns];
        var targets = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            features[i * columns] = random.Next(2) * 2 - 1;          // a relevant indicator
            features[i * columns + 1] = random.NextDouble();         // a relevant continuous column
            features[i * columns + 2] = random.Next(2) * 2 - 1;      // an irrelevant indicator
            features[i * columns + 3] = random.Next(3);              // three values: not an indicator
            targets[i] = features[i * columns] + 2 * features[i * columns + 1] + 0.1 * random.NextDouble();
        }

        double[] all = InputRelevance.Weights(features, rows, columns, targets, 1, weights: null, indicatorsOnly: false)!;
        double[] indicators = InputRelevance.Weights(features, rows, columns, targets, 1, weights: null, indicatorsOnly: true)!;
        Assert.AreEqual(1.0, indicators[1]);
        Assert.AreEqual(1.0, indicators[3]);
        Assert.AreEqual(1.0, (indicators[0] * indicators[0] + indicators[2] * indicators[2]) / 2, 1e-12);
        Assert.IsGreaterThan(1.3, indicators[0]);
        Assert.IsLessThan(0.6, indicators[2]);
        Assert.AreEqual(1.0, all.Average(w => w * w), 1e-12);
        Assert.AreNotEqual(all[0], indicators[0], "r̄ is the indicators' mean relevance, not all columns'");

    }

    /// <summary>
    /// A row of weight 0 counts for nothing: not as a third value of an indicator, not as a bin of its own, not in a bin's
    /// mean. The same rows without it give the same ratios.
    /// </summary>
    [TestMethod]
    public void ARowOfWeightZeroChangesNothing()
    {
        var random = new Random(13);
        const int rows = 120;
        const int columns = 3;
        var features = new double[rows * columns];
        var targets = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            features[i * columns] = random.Next(2);
            features[i * columns + 1] = random.Next(10);
            features[i * columns + 2] = random.NextDouble();
            targets[i] = features[i * columns] + 0.2 * features[i * columns + 1] + features[i * columns + 2] + random.NextDouble();
        }
        var weights = Enumerable.Repeat(1.0, rows + 1).ToArray();
        weights[rows] = 0;
        double[] withRow = features.Concat(new[] { 7.0, 42.0, 0.5 }).ToArray();
        double[] withTarget = targets.Append(1e6).ToArray();

        var (withZero, binsWithZero) = InputRelevance.CorrelationRatios(withRow, rows + 1, columns, withTarget, 1, weights);
        var (without, binsWithout) = InputRelevance.CorrelationRatios(features, rows, columns, targets, 1, weights: null);
        CollectionAssert.AreEqual(new[] { 2, 10, InputRelevance.MaximumBins }, binsWithout);
        CollectionAssert.AreEqual(binsWithout, binsWithZero);
        for (int j = 0; j < columns; j++)
            Assert.AreEqual(without[j], withZero[j], 1e-12, $"column {j}");
        double[] weightedWithZero = InputRelevance.Weights(withRow, rows + 1, columns, withTarget, 1, weights, indicatorsOnly: true)!;
        double[] weightedWithout = InputRelevance.Weights(features, rows, columns, targets, 1, weights: null, indicatorsOnly: true)!;
        CollectionAssert.AreEqual(weightedWithout, weightedWithZero);
    }

    /// <summary>Columns that say nothing about the label leave every input as it is (no column gets a chance's weight).</summary>
    [TestMethod]
    public void PureNoiseLeavesEveryInputAsItIs()
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var random = new Random(seed);
            const int rows = 200;
            const int columns = 30;
            double[] features = Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble()).ToArray();
            double[] targets = Enumerable.Range(0, rows).Select(_ => random.NextDouble()).ToArray();
            Assert.IsNull(InputRelevance.Weights(features, rows, columns, targets, 1, weights: null, indicatorsOnly: false), $"seed {seed}");
        }
    }

    [TestMethod]
    public void ConstantTargetsLeaveEveryInputAsItIs()
    {
        const int rows = 30;
        double[] features = Enumerable.Range(0, rows * 3).Select(i => Math.Sin(i)).ToArray();
        double[] targets = Enumerable.Repeat(2.5, rows).ToArray();
        Assert.IsNull(InputRelevance.Weights(features, rows, 3, targets, 1, weights: null, indicatorsOnly: false));
    }

    /// <summary>
    /// The rows the network trains on are the features standardised with the scales the model stores, weights included,
    /// with compression and normal scores on; Automatic above 1,000 rows changes only the two-valued columns' scales.
    /// </summary>
    [TestMethod]
    public void TheNetworkTrainsOnTheScalesTheModelStores()
    {
        var random = new Random(17);
        const int rows = 1001;
        const int columns = 4;
        var features = new double[rows * columns];
        var targets = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            features[i * columns] = random.Next(2);                                  // relevant indicator
            features[i * columns + 1] = random.Next(2);                              // irrelevant indicator
            features[i * columns + 2] = Math.Exp(2 * random.NextDouble());           // skewed-ish, scored
            features[i * columns + 3] = random.NextDouble();                         // uniform, scored
            targets[i] = 2 * features[i * columns] + Math.Log(features[i * columns + 2]) + random.NextDouble();
        }
        var data = new KareTrainingData(features, rows, columns, targets, 1, null);
        foreach (KareRelevanceWeighting weighting in new[] { KareRelevanceWeighting.AllInputs, KareRelevanceWeighting.Automatic })
        {
            StandardizedRows weighted = StandardizedRows.Create(data, compressSkewedFeatures: true, scaleIndicatorsByRange: true, appendNormalScores: true);
            weighted.WeighInputsByRelevance(weighting, screenWeights: null);
            StandardizedRows plain = StandardizedRows.Create(data, compressSkewedFeatures: true, scaleIndicatorsByRange: true, appendNormalScores: true);
            int inputs = weighted.FeatureCount;
            Assert.IsGreaterThan(columns, inputs, "normal scores are appended");
            Assert.IsNotNull(weighted.InputWeights);
            for (int j = 0; j < inputs; j++)
            {
                Assert.AreEqual(plain.FeatureScales[j] / weighted.InputWeights![j], weighted.FeatureScales[j], 1e-15 * plain.FeatureScales[j]);
                for (int i = 0; i < rows; i += 97)
                {
                    double unweighted = plain.Features[i * inputs + j];
                    double raw = plain.FeatureMeans[j] + plain.FeatureScales[j] * unweighted;
                    Assert.AreEqual((raw - weighted.FeatureMeans[j]) / weighted.FeatureScales[j], weighted.Features[i * inputs + j], 1e-12, $"{weighting}, row {i}, input {j}");
                }
            }
            if (weighting == KareRelevanceWeighting.Automatic)
            {
                Assert.IsGreaterThan(1.0, weighted.InputWeights![0]);
                Assert.IsLessThan(1.0, weighted.InputWeights![1]);
                for (int j = 2; j < inputs; j++)
                    Assert.AreEqual(1.0, weighted.InputWeights![j], $"input {j} has more than two values");
            }
        }
        StandardizedRows thousand = StandardizedRows.Create(new KareTrainingData(features[..(1000 * columns)], 1000, columns, targets[..1000], 1, null));
        thousand.WeighInputsByRelevance(KareRelevanceWeighting.Automatic, screenWeights: null);
        Assert.IsNull(thousand.InputWeights, "1,000 rows: Automatic weights nothing");
    }
}
