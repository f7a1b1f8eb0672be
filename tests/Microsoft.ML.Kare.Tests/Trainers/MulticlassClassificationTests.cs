using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>The multiclass KARE trainer inside ML.NET: evaluation, probabilities, key labels, save/load, bad labels, options.</summary>
[TestClass]
public sealed class MulticlassClassificationTests
{
    private const int ClassCount = 3;

    public TestContext TestContext { get; set; } = null!;

    internal static KareMulticlassTrainer.Options FastOptions(int? seed = 3) => new()
    {
        HiddenLayerWidths = new[] { 16 },
        NumberOfEpochs = 3,
        Seed = seed,
    };

    /// <summary>Text label → key "Label", then KARE, then the predicted key back to text.</summary>
    private static IEstimator<ITransformer> Pipeline(MLContext mlContext, KareMulticlassTrainer.Options options)
        => mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(BlobRow.Species))
            .Append(mlContext.MulticlassClassification.Trainers.Kare(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedSpecies", "PredictedLabel"));

    private static MulticlassPredictionTransformer<KareMulticlassModelParameters> KarePart(ITransformer chain)
        => ((IEnumerable<ITransformer>)chain).OfType<MulticlassPredictionTransformer<KareMulticlassModelParameters>>().Single();

    [TestMethod]
    public void SeparableBlobsEvaluateWithHighAccuracyAndScoresAreProbabilities()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(180, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(120, seed: 2));
        var model = Pipeline(mlContext, FastOptions()).Fit(train);
        var kare = KarePart(model);
        Assert.AreEqual(ClassCount, kare.Model.ClassCount);
        Assert.IsGreaterThan(0.0, kare.Model.Temperature);

        IDataView scored = model.Transform(test);
        MulticlassClassificationMetrics metrics = mlContext.MulticlassClassification.Evaluate(scored);
        TestContext.WriteLine($"micro accuracy = {metrics.MicroAccuracy}, macro accuracy = {metrics.MacroAccuracy}, log-loss = {metrics.LogLoss}, "
            + $"log-loss reduction = {metrics.LogLossReduction}, T = {kare.Model.Temperature}");
        Assert.IsGreaterThan(0.85, metrics.MicroAccuracy);
        Assert.IsTrue(double.IsFinite(metrics.LogLoss));
        Assert.IsLessThan(0.6, metrics.LogLoss, "Calibrated probabilities should beat the 1.10 of uniform guessing by far.");
        Assert.IsGreaterThan(0.4, metrics.LogLossReduction);

        float[][] scores = scored.GetColumn<float[]>("Score").ToArray();
        foreach (float[] row in scores)
        {
            Assert.HasCount(ClassCount, row);
            Assert.IsTrue(row.All(p => p >= 0 && p <= 1));
            Assert.AreEqual(1.0, row.Sum(), 1e-5);
        }

        // The predicted label is the largest score, and maps back to the species text.
        uint[] predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        string[] species = scored.GetColumn<string>("PredictedSpecies").ToArray();
        VBuffer<ReadOnlyMemory<char>> names = default;
        scored.Schema["Score"].GetSlotNames(ref names);
        string[] slotNames = names.DenseValues().Select(n => n.ToString()).ToArray();
        for (int i = 0; i < scores.Length; i++)
        {
            int best = Array.IndexOf(scores[i], scores[i].Max());
            Assert.AreEqual((uint)(best + 1), predicted[i]);
            Assert.AreEqual(slotNames[best], species[i]);
        }
    }

    [TestMethod]
    public void SaveLoadRoundTripIsTypedAndScoresIdentically()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(150, seed: 3));
        var model = Pipeline(mlContext, FastOptions()).Fit(train);
        IDataView probe = mlContext.Data.LoadFromEnumerable(BlobRow.Generate(30, seed: 4));

        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"multiclass-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 5).Model.Load(path, out _);
        var kare = KarePart(loaded);
        var original = KarePart(model);
        Assert.AreEqual(original.Model.Temperature, kare.Model.Temperature);
        CollectionAssert.AreEqual(original.Model.PrimalWeights.ToArray(), kare.Model.PrimalWeights.ToArray());
        CollectionAssert.AreEqual(original.Model.OutputMeans.ToArray(), kare.Model.OutputMeans.ToArray());

        float[][] before = model.Transform(probe).GetColumn<float[]>("Score").ToArray();
        float[][] after = loaded.Transform(probe).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < before.Length; i++)
            CollectionAssert.AreEqual(before[i], after[i]);
        CollectionAssert.AreEqual(model.Transform(probe).GetColumn<string>("PredictedSpecies").ToArray(),
            loaded.Transform(probe).GetColumn<string>("PredictedSpecies").ToArray());

        var engine = mlContext.Model.CreatePredictionEngine<BlobRow, SpeciesPrediction>(loaded);
        SpeciesPrediction prediction = engine.Predict(BlobRow.Generate(1, seed: 6).Single());
        Assert.HasCount(ClassCount, prediction.Score);
        Assert.AreEqual(1.0, prediction.Score.Sum(), 1e-5);
        CollectionAssert.Contains(BlobRow.Names, prediction.PredictedSpecies);
    }

    [TestMethod]
    public void CrossValidationRunsEveryFold()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(BlobRow.Species))
            .Fit(mlContext.Data.LoadFromEnumerable(BlobRow.Generate(150, seed: 7)))
            .Transform(mlContext.Data.LoadFromEnumerable(BlobRow.Generate(150, seed: 7)));
        var results = mlContext.MulticlassClassification.CrossValidate(data, mlContext.MulticlassClassification.Trainers.Kare(FastOptions()), numberOfFolds: 3);
        Assert.HasCount(3, results);
        foreach (var fold in results)
        {
            Assert.IsGreaterThan(0.8, fold.Metrics.MicroAccuracy);
            Assert.IsTrue(double.IsFinite(fold.Metrics.LogLoss));
        }
    }

    [TestMethod]
    public void UnseenTestClassAndClassWithoutTrainingRowsAreHandled()
    {
        // The key type has a fourth value ("delta") that no training row has; a test row of an unknown species maps to
        // the missing key (0). Training warns, scoring and evaluation work, and the empty class gets a low probability.
        var mlContext = new MLContext(seed: 1);
        var keyData = BlobRow.Names.Append("delta").Select(n => new BlobRow { Species = n, Features = new float[BlobRow.Size] });
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(BlobRow.Species)).Fit(mlContext.Data.LoadFromEnumerable(keyData));
        IDataView train = toKey.Transform(mlContext.Data.LoadFromEnumerable(BlobRow.Generate(120, seed: 8)));
        var warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Kind == Runtime.ChannelMessageKind.Warning)
                warnings.Enqueue(e.Message);
        };
        var model = mlContext.MulticlassClassification.Trainers.Kare(FastOptions()).Fit(train);
        Assert.AreEqual(4, model.Model.ClassCount);
        Assert.IsTrue(warnings.Any(w => w.Contains("have no training rows", StringComparison.Ordinal)));

        var testRows = BlobRow.Generate(40, seed: 9).ToList();
        testRows.Add(new BlobRow { Species = "epsilon", Features = new float[BlobRow.Size] });
        IDataView scored = model.Transform(toKey.Transform(mlContext.Data.LoadFromEnumerable(testRows)));
        Assert.AreEqual(0u, scored.GetColumn<uint>("Label").Last(), "An unknown species is the missing key.");
        float[][] scores = scored.GetColumn<float[]>("Score").ToArray();
        Assert.IsTrue(scores.All(s => s.Length == 4 && Math.Abs(s.Sum() - 1) < 1e-5));
        Assert.IsLessThan(0.1, scores.Select(s => s[3]).Average());
        MulticlassClassificationMetrics metrics = mlContext.MulticlassClassification.Evaluate(scored);
        Assert.IsTrue(double.IsFinite(metrics.LogLoss));
        Assert.IsGreaterThan(0.8, metrics.MicroAccuracy);
    }

    [TestMethod]
    public void NonKeyLabelIsRejectedAtFitNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new FloatLabelRow { Kind = 1, Features = new float[BlobRow.Size] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.MulticlassClassification.Trainers.Kare(labelColumnName: "Kind").Fit(data));
        StringAssert.Contains(ex.Message, "'Kind'");
    }

    [TestMethod]
    public void SingleClassIsRejectedNamingTheLabelColumn()
    {
        var mlContext = new MLContext(seed: 0);
        var keyData = BlobRow.Names.Select(n => new BlobRow { Species = n, Features = new float[BlobRow.Size] });
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Class", nameof(BlobRow.Species)).Fit(mlContext.Data.LoadFromEnumerable(keyData));
        var rows = BlobRow.Generate(40, seed: 10).Select(r => new BlobRow { Species = "beta", Features = r.Features });
        IDataView train = toKey.Transform(mlContext.Data.LoadFromEnumerable(rows));
        var ex = Assert.Throws<InvalidOperationException>(() =>
            mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options { LabelColumnName = "Class", HiddenLayerWidths = new[] { 8 }, NumberOfEpochs = 1 }).Fit(train));
        StringAssert.Contains(ex.Message, "'Class'");
        StringAssert.Contains(ex.Message, "only one class");
    }

    [TestMethod]
    public void SimpleOverloadSetsColumnsAndOptionsAreValidated()
    {
        var mlContext = new MLContext(seed: 0);
        KareMulticlassTrainer trainer = mlContext.MulticlassClassification.Trainers.Kare("Y", "X", "W", numberOfEpochs: 3, learningRate: 2.5, hiddenLayerWidths: new[] { 8 });
        Assert.AreEqual("Y", trainer.LabelColumn.Name);
        Assert.AreEqual("X", trainer.FeatureColumn.Name);
        Assert.AreEqual("W", trainer.WeightColumn.Name);

        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.Kare(learningRate: 0));
        Assert.AreEqual(nameof(KareMulticlassTrainer.Options.LearningRate), ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options { RidgeGrid = Array.Empty<double>() }));
        Assert.AreEqual(nameof(KareMulticlassTrainer.Options.RidgeGrid), ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options { FeatureColumnName = "" }));
        Assert.AreEqual(nameof(KareMulticlassTrainer.Options.FeatureColumnName), ex.ParamName);
        Assert.ThrowsExactly<ArgumentNullException>(() => mlContext.MulticlassClassification.Trainers.Kare((KareMulticlassTrainer.Options)null!));
    }

    [TestMethod]
    public void TemperatureMaximisesTheLikelihoodAndStaysFiniteOnSeparableOutputs()
    {
        // Two classes, outputs ±1 with a few errors: the fitted T makes the derivative of the smoothed loss vanish.
        var random = new Random(3);
        int n = 200;
        var outputs = new double[2 * n];
        var targets = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            int y = i % 2;
            double margin = 0.6 + 0.3 * StandardNormal.Draw(random);
            outputs[2 * i + y] = margin / 2;
            outputs[2 * i + 1 - y] = -margin / 2;
            targets[2 * i + y] = 1;
            targets[2 * i + 1 - y] = -1;
        }
        double t = SoftmaxTemperature.Fit(outputs, targets, n, 2, null);
        Assert.IsTrue(t > 0 && double.IsFinite(t));
        double Loss(double temperature)
        {
            double loss = 0;
            for (int i = 0; i < n; i++)
            {
                int y = targets[2 * i] > 0 ? 0 : 1;
                double a = temperature * outputs[2 * i], b = temperature * outputs[2 * i + 1];
                double m = Math.Max(a, b);
                double logZ = m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
                double own = (n / 2 + 1.0) / (n / 2 + 2.0), other = 1 - own;
                loss -= own * ((y == 0 ? a : b) - logZ) + other * ((y == 0 ? b : a) - logZ);
            }
            return loss;
        }
        Assert.IsLessThan(Loss(t * 1.05), Loss(t));
        Assert.IsLessThan(Loss(t * 0.95), Loss(t));

        // Perfectly separated outputs still give a finite temperature (Platt's prior correction).
        for (int i = 0; i < n; i++)
        {
            int y = i % 2;
            outputs[2 * i + y] = 0.5;
            outputs[2 * i + 1 - y] = -0.5;
        }
        double separable = SoftmaxTemperature.Fit(outputs, targets, n, 2, null);
        Assert.IsTrue(double.IsFinite(separable));
        // The optimum matches the corrected target (n_y + 1)/(n_y + 2) exactly: σ(T·(0.5 − (−0.5))) = 101/102.
        Assert.AreEqual(101.0 / 102.0, 1 / (1 + Math.Exp(-separable)), 1e-9);
    }

    public sealed class BlobRow
    {
        public const int Size = 3;
        public static readonly string[] Names = { "alpha", "beta", "gamma" };

        public string Species { get; set; } = "";

        [VectorType(Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        /// <summary>Three Gaussian blobs (sd 0.7) centred at the corners of a triangle of side ≈ 4.3.</summary>
        public static IEnumerable<BlobRow> Generate(int count, int seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < count; i++)
            {
                int c = random.Next(Names.Length);
                double angle = 2 * Math.PI * c / Names.Length;
                float[] x =
                {
                    (float)(2.5 * Math.Cos(angle) + 0.7 * StandardNormal.Draw(random)),
                    (float)(2.5 * Math.Sin(angle) + 0.7 * StandardNormal.Draw(random)),
                    (float)StandardNormal.Draw(random),
                };
                yield return new BlobRow { Species = Names[c], Features = x };
            }
        }
    }

    public sealed class FloatLabelRow
    {
        public float Kind { get; set; }

        [VectorType(BlobRow.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class SpeciesPrediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();
        public string PredictedSpecies { get; set; } = "";
    }
}
