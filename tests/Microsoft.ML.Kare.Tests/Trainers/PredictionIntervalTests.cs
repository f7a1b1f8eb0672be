using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// Prediction intervals of the KARE regression trainer: the LowerBound and UpperBound columns, their calibration on
/// out-of-sample residuals (cross-validation folds, or a calibration split), their coverage on new rows, and their life
/// through save, load, prediction engines and concurrent scoring.
/// </summary>
[TestClass]
public sealed class PredictionIntervalTests
{
    private const int FeatureCount = 4;
    private const double NoiseScale = 0.3;

    public TestContext TestContext { get; set; } = null!;

    private static KareRegressionTrainer.Options Options(int? seed = 3) => new()
    {
        HiddenLayerWidths = new[] { 16 },
        NumberOfEpochs = 4,
        Seed = seed,
    };

    [TestMethod]
    public void BoundsAreTheScoreMinusAndPlusTheCalibratedHalfWidth()
    {
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.Kare(Options()).Fit(mlContext.Data.LoadFromEnumerable(Row.Generate(200, seed: 1)));
        KarePredictionInterval interval = model.Model.PredictionInterval!;
        Assert.IsNotNull(interval);
        Assert.AreEqual(0.9, interval.Coverage);
        Assert.AreEqual(KareIntervalCalibration.CrossValidation, interval.Calibration, "200 rows: the automatic selection cross-validates");
        Assert.AreEqual(200, interval.CalibrationRowCount, "every row is out of fold once");
        Assert.IsTrue(interval.HalfWidth > 0 && double.IsFinite(interval.HalfWidth));

        IDataView scored = model.Transform(mlContext.Data.LoadFromEnumerable(Row.Generate(50, seed: 2)));
        CollectionAssert.AreEqual(new[] { "Label", "Features", "Score", "LowerBound", "UpperBound" }, scored.Schema.Select(c => c.Name).ToArray());
        float[] score = scored.GetColumn<float>("Score").ToArray();
        float[] lower = scored.GetColumn<float>("LowerBound").ToArray();
        float[] upper = scored.GetColumn<float>("UpperBound").ToArray();
        for (int i = 0; i < score.Length; i++)
        {
            Assert.AreEqual((float)(score[i] - interval.HalfWidth), lower[i]);
            Assert.AreEqual((float)(score[i] + interval.HalfWidth), upper[i]);
        }
        // Evaluation reads the score as before.
        Assert.IsGreaterThan(0.5, mlContext.Regression.Evaluate(scored).RSquared);
    }

    /// <summary>
    /// The default 90% intervals cover about 90% of 4,000 new rows, on the cross-validation path (400 rows) and on the
    /// calibration-split path (a hold-out of 600 rows: 60 calibration rows). With m residuals the conditional coverage
    /// varies by about √(0.09/m) around 0.9 (0.015 at 400 rows, 0.04 at 60), so the tolerances are 0.05 and 0.1.
    /// </summary>
    [TestMethod]
    [DataRow(KareRidgeSelection.Automatic, 400, 0.05)]
    [DataRow(KareRidgeSelection.HoldOut, 600, 0.1)]
    public void NinetyPercentIntervalsCoverAboutNinetyPercentOfNewRows(KareRidgeSelection selection, int rows, double tolerance)
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = Options();
        options.RidgeSelection = selection;
        var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(Row.Generate(rows, seed: 5)));
        KarePredictionInterval interval = model.Model.PredictionInterval!;
        Assert.AreEqual(selection == KareRidgeSelection.HoldOut ? KareIntervalCalibration.CalibrationSplit : KareIntervalCalibration.CrossValidation, interval.Calibration);
        if (selection == KareRidgeSelection.HoldOut)
            Assert.AreEqual(60, interval.CalibrationRowCount);

        IDataView scored = model.Transform(mlContext.Data.LoadFromEnumerable(Row.Generate(4000, seed: 6)));
        float[] label = scored.GetColumn<float>("Label").ToArray();
        float[] lower = scored.GetColumn<float>("LowerBound").ToArray();
        float[] upper = scored.GetColumn<float>("UpperBound").ToArray();
        double coverage = Enumerable.Range(0, label.Length).Count(i => lower[i] <= label[i] && label[i] <= upper[i]) / (double)label.Length;
        TestContext.WriteLine($"{selection}: coverage {coverage:F3}, half-width {interval.HalfWidth:G4} (noise σ = {NoiseScale}; an oracle's 90% half-width is {1.645 * NoiseScale:G3})");
        Assert.AreEqual(0.9, coverage, tolerance);
        Assert.IsGreaterThan(1.645 * NoiseScale * 0.8, interval.HalfWidth, "no interval can be much narrower than the noise allows");
    }

    [TestMethod]
    public void EveryMethodAndTheAllRowsRefitGetIntervals()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = mlContext.Data.LoadFromEnumerable(Row.Generate(150, seed: 8));
        foreach (var (method, crossValidationModel) in new[]
                 {
                     (KareMethod.NeuralNetwork, KareCrossValidationModel.FoldEnsemble),
                     (KareMethod.NtkAtInitialization, KareCrossValidationModel.FoldEnsemble),
                     (KareMethod.Kare, KareCrossValidationModel.AllRowsRefit),
                 })
        {
            KareRegressionTrainer.Options options = Options();
            options.Method = method;
            options.CrossValidationModel = crossValidationModel;
            var model = mlContext.Regression.Trainers.Kare(options).Fit(train);
            KarePredictionInterval interval = model.Model.PredictionInterval!;
            Assert.IsNotNull(interval, $"{method}");
            Assert.AreEqual(150, interval.CalibrationRowCount, $"{method}");
            Assert.IsTrue(interval.HalfWidth > 0 && double.IsFinite(interval.HalfWidth), $"{method}, {crossValidationModel}: {interval}");
        }
    }

    [TestMethod]
    public void ZeroCoverageLeavesTheScoreAlone()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = Options();
        options.PredictionIntervalCoverage = 0;
        IDataView train = mlContext.Data.LoadFromEnumerable(Row.Generate(80, seed: 1));
        var model = mlContext.Regression.Trainers.Kare(options).Fit(train);
        Assert.IsNull(model.Model.PredictionInterval);
        CollectionAssert.AreEqual(new[] { "Label", "Features", "Score" }, model.Transform(train).Schema.Select(c => c.Name).ToArray());

        var loaded = ReliabilityFixtures.LoadFromBytes(mlContext, ReliabilityFixtures.SaveToBytes<Row>(mlContext, model));
        CollectionAssert.AreEqual(new[] { "Label", "Features", "Score" }, loaded.Transform(train).Schema.Select(c => c.Name).ToArray());
    }

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(-0.1)]
    [DataRow(double.NaN)]
    public void InvalidCoverageIsRefusedNamingTheOption(double coverage)
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = Options();
        options.PredictionIntervalCoverage = coverage;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Kare(options));
        StringAssert.Contains(ex.Message, nameof(options.PredictionIntervalCoverage));
    }

    /// <summary>
    /// Saved and loaded, the bounds are bit-identical in batch scoring and in prediction engines on 4 threads at once; a
    /// row with a missing feature gets NaN bounds.
    /// </summary>
    [TestMethod]
    [TestCategory("Reliability")]
    public void BoundsSurviveSaveAndLoadAndScoreIdenticallyAcrossThreads()
    {
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.Kare(Options()).Fit(mlContext.Data.LoadFromEnumerable(Row.Generate(120, seed: 3)));
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext,
            ReliabilityFixtures.SaveToBytes<Row>(mlContext, model));
        KarePredictionInterval saved = model.Model.PredictionInterval!, read = loaded.Model.PredictionInterval!;
        Assert.AreEqual(saved.HalfWidth, read.HalfWidth);
        Assert.AreEqual(saved.Coverage, read.Coverage);
        Assert.AreEqual(saved.CalibrationRowCount, read.CalibrationRowCount);
        Assert.AreEqual(saved.Calibration, read.Calibration);

        Row[] rows = Row.Generate(2000, seed: 4);
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);
        IDataView before = model.Transform(data), after = loaded.Transform(data);
        float[] lower = before.GetColumn<float>("LowerBound").ToArray(), upper = before.GetColumn<float>("UpperBound").ToArray();
        CollectionAssert.AreEqual(lower, after.GetColumn<float>("LowerBound").ToArray());
        CollectionAssert.AreEqual(upper, after.GetColumn<float>("UpperBound").ToArray());

        var results = new (float Lower, float Upper)[4][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, t =>
        {
            using var engine = mlContext.Model.CreatePredictionEngine<Row, Prediction>(loaded);
            results[t] = rows.Select(r => engine.Predict(r)).Select(p => (p.LowerBound, p.UpperBound)).ToArray();
        });
        foreach (var result in results)
        {
            CollectionAssert.AreEqual(lower, result.Select(r => r.Lower).ToArray());
            CollectionAssert.AreEqual(upper, result.Select(r => r.Upper).ToArray());
        }

        using var single = mlContext.Model.CreatePredictionEngine<Row, Prediction>(loaded);
        Prediction missing = single.Predict(new Row { Features = new[] { 0.1f, float.NaN, 0.3f, 0.4f } });
        Assert.IsTrue(float.IsNaN(missing.Score) && float.IsNaN(missing.LowerBound) && float.IsNaN(missing.UpperBound));
        Prediction next = single.Predict(rows[0]);
        Assert.AreEqual(lower[0], next.LowerBound, "the engine's next row is scored afresh");
    }

    public sealed class Row
    {
        public float Label { get; set; }

        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();

        /// <summary>y = sin(2x₀) + x₁·x₂ + 0.5·x₃ + 0.3·ε, x ~ U(−1.5, 1.5)⁴, ε standard normal.</summary>
        public static Row[] Generate(int count, int seed)
        {
            var random = new Random(seed);
            var rows = new Row[count];
            for (int i = 0; i < count; i++)
            {
                float[] x = Enumerable.Range(0, FeatureCount).Select(_ => (float)(3 * random.NextDouble() - 1.5)).ToArray();
                double noise = StandardNormal.Draw(random);
                rows[i] = new Row { Label = (float)(Math.Sin(2 * x[0]) + x[1] * x[2] + 0.5 * x[3] + NoiseScale * noise), Features = x };
            }
            return rows;
        }
    }

    public sealed class Prediction
    {
        public float Score { get; set; }
        public float LowerBound { get; set; }
        public float UpperBound { get; set; }
    }
}
