using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>The binary KARE trainer inside ML.NET: evaluation, calibration, save/load, bad labels, weights, options.</summary>
[TestClass]
public sealed class BinaryClassificationTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Small settings that keep each fit well under a second.</summary>
    internal static KareBinaryTrainer.Options FastOptions(int? seed = 3) => new()
    {
        HiddenLayerWidths = new[] { 16 },
        NumberOfEpochs = 3,
        Seed = seed,
    };

    [TestMethod]
    public void SeparableBlobsEvaluateWithHighAucAndFiniteLogLoss()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(160, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(100, seed: 2));
        var model = mlContext.BinaryClassification.Trainers.Kare(FastOptions()).Fit(train);
        Assert.IsInstanceOfType<BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>>(model);

        IDataView scored = model.Transform(test);
        CalibratedBinaryClassificationMetrics metrics = mlContext.BinaryClassification.Evaluate(scored);
        TestContext.WriteLine($"AUC = {metrics.AreaUnderRocCurve}, accuracy = {metrics.Accuracy}, log-loss = {metrics.LogLoss}, log-loss reduction = {metrics.LogLossReduction}");
        Assert.IsGreaterThan(0.9, metrics.AreaUnderRocCurve);
        Assert.IsGreaterThan(0.85, metrics.Accuracy);
        Assert.IsTrue(double.IsFinite(metrics.LogLoss));
        Assert.IsLessThan(0.5, metrics.LogLoss, "Calibrated probabilities should beat the 0.69 of a coin flip by far.");

        float[] probabilities = scored.GetColumn<float>("Probability").ToArray();
        float[] scores = scored.GetColumn<float>("Score").ToArray();
        bool[] predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
        Assert.IsTrue(probabilities.All(p => p >= 0 && p <= 1));
        for (int i = 0; i < scores.Length; i++)
            Assert.AreEqual(scores[i] > 0, predicted[i], $"row {i}: the predicted label is the sign of the score");
        // Platt calibration is increasing in the score.
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        for (int i = 1; i < order.Length; i++)
            Assert.IsGreaterThanOrEqualTo(probabilities[order[i - 1]], probabilities[order[i]]);
        Assert.IsLessThan(0.0, model.Model.Calibrator.Slope, "P(true) grows with the score");
    }

    [TestMethod]
    public void SaveLoadRoundTripIsTypedAndScoresIdentically()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(120, seed: 3));
        var model = mlContext.BinaryClassification.Trainers.Kare(FastOptions()).Fit(train);
        IDataView probe = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(30, seed: 4));

        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"binary-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var loaded = (BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>)new MLContext(seed: 5).Model.Load(path, out _);

        CollectionAssert.AreEqual(model.Transform(probe).GetColumn<float>("Score").ToArray(), loaded.Transform(probe).GetColumn<float>("Score").ToArray());
        CollectionAssert.AreEqual(model.Transform(probe).GetColumn<float>("Probability").ToArray(), loaded.Transform(probe).GetColumn<float>("Probability").ToArray());
        Assert.AreEqual(model.Model.Calibrator.Slope, loaded.Model.Calibrator.Slope);
        Assert.AreEqual(model.Model.Calibrator.Offset, loaded.Model.Calibrator.Offset);
        CollectionAssert.AreEqual(model.Model.SubModel.PrimalWeights.ToArray(), loaded.Model.SubModel.PrimalWeights.ToArray());
        CollectionAssert.AreEqual(model.Model.SubModel.TrainingCurve.ToArray(), loaded.Model.SubModel.TrainingCurve.ToArray());

        var engine = mlContext.Model.CreatePredictionEngine<BlobRow, BinaryPrediction>(loaded);
        BlobRow row = BlobRow.Generate(1, seed: 6).Single();
        BinaryPrediction prediction = engine.Predict(row);
        Assert.AreEqual(prediction.Score > 0, prediction.PredictedLabel);
        Assert.IsTrue(prediction.Probability is >= 0 and <= 1);
    }

    [TestMethod]
    public void CrossValidationRunsEveryFold()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(150, seed: 7));
        var results = mlContext.BinaryClassification.CrossValidate(data, mlContext.BinaryClassification.Trainers.Kare(FastOptions()), numberOfFolds: 3);
        Assert.HasCount(3, results);
        foreach (var fold in results)
        {
            Assert.IsGreaterThan(0.85, fold.Metrics.AreaUnderRocCurve);
            Assert.IsTrue(double.IsFinite(fold.Metrics.LogLoss));
        }
    }

    [TestMethod]
    public void ExampleWeightsShiftTheProbabilities()
    {
        // Overlapping blobs; weighting the positive rows 4× must raise the predicted probability of the positive class.
        BlobRow[] rows = BlobRow.Generate(120, seed: 8, separation: 0.5).ToArray();
        var weighted = rows.Select(r => new WeightedBlobRow { Label = r.Label, Features = r.Features, Weight = r.Label ? 4 : 1 }).ToArray();

        var mlContext = new MLContext(seed: 1);
        var options = FastOptions(seed: 11);
        options.ExampleWeightColumnName = nameof(WeightedBlobRow.Weight);
        var fromWeighted = mlContext.BinaryClassification.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(weighted));
        var fromUnweighted = mlContext.BinaryClassification.Trainers.Kare(FastOptions(seed: 11)).Fit(mlContext.Data.LoadFromEnumerable(rows));

        IDataView probe = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(200, seed: 10, separation: 0.5));
        double weightedMean = fromWeighted.Transform(probe).GetColumn<float>("Probability").Average();
        double unweightedMean = fromUnweighted.Transform(probe).GetColumn<float>("Probability").Average();
        TestContext.WriteLine($"mean P(true): weighted {weightedMean:F3}, unweighted {unweightedMean:F3}");
        Assert.IsGreaterThan(unweightedMean + 0.1, weightedMean);
    }

    [TestMethod]
    public void NonBooleanLabelIsRejectedAtFitNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new FloatLabelRow { Target = 1, Features = new float[BlobRow.Size] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.BinaryClassification.Trainers.Kare(labelColumnName: "Target").Fit(data));
        StringAssert.Contains(ex.Message, "'Target'");
        StringAssert.Contains(ex.Message, "Boolean");
    }

    [TestMethod]
    public void SingleClassIsRejectedNamingTheLabelColumn()
    {
        var mlContext = new MLContext(seed: 0);
        var rows = BlobRow.Generate(40, seed: 12).Select(r => new BlobRow { Label = true, Features = r.Features });
        var ex = Assert.Throws<InvalidOperationException>(() => mlContext.BinaryClassification.Trainers.Kare(FastOptions()).Fit(mlContext.Data.LoadFromEnumerable(rows)));
        StringAssert.Contains(ex.Message, "'Label'");
        StringAssert.Contains(ex.Message, "only one class (true)");
    }

    [TestMethod]
    public void SimpleOverloadSetsColumnsAndOptionsAreValidated()
    {
        var mlContext = new MLContext(seed: 0);
        KareBinaryTrainer trainer = mlContext.BinaryClassification.Trainers.Kare("Y", "X", "W", numberOfEpochs: 3, learningRate: 2.5, hiddenLayerWidths: new[] { 8 });
        Assert.AreEqual("Y", trainer.LabelColumn.Name);
        Assert.AreEqual("X", trainer.FeatureColumn.Name);
        Assert.AreEqual("W", trainer.WeightColumn.Name);
        Assert.IsFalse(trainer.Info.NeedNormalization);

        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.Kare(numberOfEpochs: -1));
        Assert.AreEqual(nameof(KareBinaryTrainer.Options.NumberOfEpochs), ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.Kare(new KareBinaryTrainer.Options { ValidationFraction = 1 }));
        Assert.AreEqual(nameof(KareBinaryTrainer.Options.ValidationFraction), ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.Kare(new KareBinaryTrainer.Options { HiddenLayerWidths = new[] { 4, 0 } }));
        Assert.AreEqual(nameof(KareBinaryTrainer.Options.HiddenLayerWidths), ex.ParamName);
        Assert.ThrowsExactly<ArgumentNullException>(() => mlContext.BinaryClassification.Trainers.Kare((KareBinaryTrainer.Options)null!));

        // The trainer copies its options.
        var options = FastOptions();
        var copied = mlContext.BinaryClassification.Trainers.Kare(options);
        options.LabelColumnName = "Changed";
        Assert.AreEqual("Label", copied.LabelColumn.Name);
    }

    public sealed class BlobRow
    {
        public const int Size = 3;

        public bool Label { get; set; }

        [VectorType(Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        /// <summary>Two Gaussian blobs (sd 1) whose centres are 2·<paramref name="separation"/> apart (3.5: nearly separable).</summary>
        public static IEnumerable<BlobRow> Generate(int count, int seed, double separation = 1.75)
        {
            var random = new Random(seed);
            for (int i = 0; i < count; i++)
            {
                bool label = random.Next(2) == 1;
                float[] x = Enumerable.Range(0, Size).Select(j => (float)(StandardNormal.Draw(random) + (label ? 1 : -1) * (j == 0 ? separation : 0.0))).ToArray();
                yield return new BlobRow { Label = label, Features = x };
            }
        }
    }


    public sealed class WeightedBlobRow
    {
        public bool Label { get; set; }

        [VectorType(BlobRow.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Weight { get; set; }
    }

    public sealed class FloatLabelRow
    {
        public float Target { get; set; }

        [VectorType(BlobRow.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class BinaryPrediction
    {
        public bool PredictedLabel { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
    }
}
