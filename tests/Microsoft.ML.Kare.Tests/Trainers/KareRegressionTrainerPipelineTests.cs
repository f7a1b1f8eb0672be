using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>The trainer inside ordinary ML.NET pipelines and tools (these train, so they need the TorchSharp backend).</summary>
[TestClass]
public sealed class KareRegressionTrainerPipelineTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Small settings that keep each fit to about a second.</summary>
    private static KareRegressionTrainer.Options FastOptions(int? seed = 3) => new()
    {
        HiddenLayerWidths = new[] { 32 },
        NumberOfEpochs = 4,
        Seed = seed,
    };

    [TestMethod]
    public void PipelineWithCategoricalAndNumericFeaturesTrainsEvaluatesAndSaves()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(HouseRow.Generate(240, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(HouseRow.Generate(120, seed: 2));
        var pipeline = mlContext.Transforms.Categorical.OneHotEncoding("DistrictEncoded", nameof(HouseRow.District))
            .Append(mlContext.Transforms.Concatenate("Features", nameof(HouseRow.Size), nameof(HouseRow.Age), nameof(HouseRow.Rooms), "DistrictEncoded"))
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .Append(mlContext.Regression.Trainers.Kare(FastOptions()));

        var model = pipeline.Fit(train);
        RegressionPredictionTransformer<KareRegressionModelParameters> kare = model.LastTransformer;
        Assert.IsNotEmpty(kare.Model.TrainingCurve);
        Assert.AreEqual(8 + kare.Model.NormalScoreColumns.Count, kare.Model.Architecture.InputCount, "the features and their normal scores");

        RegressionMetrics metrics = mlContext.Regression.Evaluate(model.Transform(test));
        TestContext.WriteLine($"R² = {metrics.RSquared}, RMSE = {metrics.RootMeanSquaredError}");
        Assert.IsGreaterThan(0.8, metrics.RSquared, "KARE should fit a smooth function of 8 features well.");

        // Save, load typed (in this process; FreshProcessScoringTests covers another process), same scores.
        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"pipeline-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var loaded = (TransformerChain<ITransformer>)mlContext.Model.Load(path, out _);
        Assert.IsInstanceOfType<RegressionPredictionTransformer<KareRegressionModelParameters>>(loaded.LastTransformer);
        float[] before = model.Transform(test).GetColumn<float>("Score").ToArray();
        float[] after = loaded.Transform(test).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after);
    }

    [TestMethod]
    public void PredictionEngineMatchesTransform()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(150, seed: 4));
        var model = mlContext.Regression.Trainers.Kare(FastOptions()).Fit(train);
        VectorRow[] rows = VectorRow.Generate(10, seed: 5).ToArray();
        float[] scores = model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("Score").ToArray();

        var engine = mlContext.Model.CreatePredictionEngine<VectorRow, ScoreRow>(model);
        for (int i = 0; i < rows.Length; i++)
            Assert.AreEqual(scores[i], engine.Predict(rows[i]).Score);
    }

    [TestMethod]
    public void CrossValidationRunsEveryFold()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(180, seed: 6));
        var results = mlContext.Regression.CrossValidate(data, mlContext.Regression.Trainers.Kare(FastOptions()), numberOfFolds: 3);
        Assert.HasCount(3, results);
        foreach (var fold in results)
        {
            Assert.IsInstanceOfType<RegressionPredictionTransformer<KareRegressionModelParameters>>(fold.Model);
            Assert.IsTrue(double.IsFinite(fold.Metrics.MeanSquaredError));
            Assert.IsGreaterThan(0.5, fold.Metrics.RSquared);
        }
    }

    [TestMethod]
    public void PermutationFeatureImportanceFindsTheInformativeFeature()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(200, seed: 7));
        var model = mlContext.Regression.Trainers.Kare(FastOptions()).Fit(data);
        var importance = mlContext.Regression.PermutationFeatureImportance(model, data, permutationCount: 2);
        double[] drop = importance.Select(m => m.RSquared.Mean).ToArray();
        TestContext.WriteLine(string.Join(", ", drop));
        Assert.HasCount(VectorRow.Size, drop);
        // The label depends on feature 0 most strongly: permuting it costs the most R².
        Assert.AreEqual(0, Array.IndexOf(drop, drop.Min()));
    }

    [TestMethod]
    public void RowsWithMissingValuesAreSkippedAndLogged()
    {
        VectorRow[] clean = VectorRow.Generate(120, seed: 8).ToArray();
        var dirty = clean.ToList();
        dirty.Insert(5, new VectorRow { Label = float.NaN, Features = new float[VectorRow.Size] });
        dirty.Insert(17, new VectorRow { Label = 1, Features = new[] { 1f, float.NaN, 0, 0 } });
        dirty.Add(new VectorRow { Label = 2, Features = new[] { float.NegativeInfinity, 0, 0, 0 } });

        var messages = new ConcurrentQueue<string>();
        var mlContext = new MLContext(seed: 1);
        mlContext.Log += (_, e) => messages.Enqueue(e.Message);
        var fromDirty = mlContext.Regression.Trainers.Kare(FastOptions(seed: 9)).Fit(mlContext.Data.LoadFromEnumerable(dirty));
        var fromClean = new MLContext(seed: 1).Regression.Trainers.Kare(FastOptions(seed: 9)).Fit(mlContext.Data.LoadFromEnumerable(clean));

        Assert.IsTrue(messages.Any(m => m.Contains("Skipped 3 of 123 training rows")), string.Join(Environment.NewLine, messages));
        IDataView probe = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(10, seed: 10));
        CollectionAssert.AreEqual(fromClean.Transform(probe).GetColumn<float>("Score").ToArray(),
            fromDirty.Transform(probe).GetColumn<float>("Score").ToArray(), "Skipped rows must not influence the model.");
    }

    [TestMethod]
    public void ProgressIsLoggedPerEpoch()
    {
        var messages = new ConcurrentQueue<string>();
        var mlContext = new MLContext(seed: 1);
        mlContext.Log += (_, e) => messages.Enqueue(e.Message);
        mlContext.Regression.Trainers.Kare(FastOptions()).Fit(mlContext.Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 11)));
        for (int epoch = 1; epoch <= 4; epoch++)
            Assert.IsTrue(messages.Any(m => m.Contains($"Epoch {epoch}/4: KARE ρ=")), $"no log line for epoch {epoch}");
    }

    [TestMethod]
    public void SameMLContextSeedGivesTheSameModel()
    {
        float[] Train() => new MLContext(seed: 42).Regression.Trainers.Kare(FastOptions(seed: null))
            .Fit(new MLContext().Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 12)))
            .Model.NetworkParameters.Select(v => (float)v).ToArray();
        CollectionAssert.AreEqual(Train(), Train());
    }

    [TestMethod]
    public void WeightedDataWithANamedLabelTrains()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = VectorRow.Generate(120, seed: 13).Select((r, i) => new WeightedRow
        {
            Target = r.Label,
            Features = r.Features,
            Importance = i % 3 == 0 ? 0.5f : 1.5f,
        });
        var model = mlContext.Regression.Trainers.Kare("Target", exampleWeightColumnName: "Importance", numberOfEpochs: 3, hiddenLayerWidths: new[] { 16 })
            .Fit(mlContext.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(double.IsFinite(model.Model.LabelMean));
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void CancelExecutionStopsTraining()
    {
        // MLContext.CancelExecution is internal in ML.NET 5.0.1 (AutoML reaches it as a friend assembly): call it the same way.
        var mlContext = new MLContext(seed: 1);
        System.Reflection.MethodInfo cancel = typeof(MLContext).GetMethod("CancelExecution",
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        Assert.IsNotNull(cancel);
        mlContext.Log += (_, e) =>
        {
            if (e.Message.Contains("Epoch 1/", StringComparison.Ordinal))
                cancel.Invoke(mlContext, null);
        };
        var options = FastOptions();
        options.NumberOfEpochs = 1000;
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 14));
        Assert.Throws<OperationCanceledException>(() => mlContext.Regression.Trainers.Kare(options).Fit(data));
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void CancellationTokenStopsTrainingAndProgressReportsEachEpoch()
    {
        var mlContext = new MLContext(seed: 1);
        using var cancellation = new CancellationTokenSource();
        var seen = new List<int>();
        var options = FastOptions();
        options.NumberOfEpochs = 1000;
        options.CancellationToken = cancellation.Token;
        options.Progress = new SynchronousProgress(summary =>
        {
            seen.Add(summary.Epoch);
            if (summary.Epoch == 3)
                cancellation.Cancel();
        });
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 14));
        Assert.Throws<OperationCanceledException>(() => mlContext.Regression.Trainers.Kare(options).Fit(data));
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, seen);
    }

    [TestMethod]
    public void ProgressReportsTheTrainingCurve()
    {
        var mlContext = new MLContext(seed: 1);
        var seen = new List<KareEpochSummary>();
        var options = FastOptions();
        options.Progress = new SynchronousProgress(seen.Add);
        var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 15)));
        CollectionAssert.AreEqual(model.Model.TrainingCurve.ToArray(), seen.ToArray());
        Assert.HasCount(options.NumberOfEpochs + 1, seen);
    }

    [TestMethod]
    [DataRow(KareRidgeSelection.HoldOut)]
    [DataRow(KareRidgeSelection.GeneralizedCrossValidation)]
    public void DivergenceStopsWithAWarningAndKeepsAFiniteModel(KareRidgeSelection selection)
    {
        var mlContext = new MLContext(seed: 1);
        var warnings = new ConcurrentQueue<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Kind == Runtime.ChannelMessageKind.Warning)
                warnings.Enqueue(e.Message);
        };
        var options = FastOptions();
        options.LearningRate = 1e300; // overflows θ on the first step: a non-finite KARE value
        options.NumberOfEpochs = 20;
        options.RidgeSelection = selection;
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 16));
        var model = mlContext.Regression.Trainers.Kare(options).Fit(data);

        string warning = warnings.SingleOrDefault(w => w.Contains("diverged", StringComparison.Ordinal)) ?? "";
        StringAssert.Contains(warning, "at epoch ");
        StringAssert.Contains(warning, "Lower the learning rate");
        Assert.IsLessThan(options.NumberOfEpochs, model.Model.SelectedEpoch);
        Assert.IsTrue(model.Model.NetworkParameters.All(double.IsFinite) && model.Model.PrimalWeights.All(double.IsFinite));
        float[] scores = model.Transform(data).GetColumn<float>("Score").ToArray();
        Assert.IsTrue(scores.All(float.IsFinite));
    }

    /// <summary>Reports on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<KareEpochSummary> report) : IProgress<KareEpochSummary>
    {
        public void Report(KareEpochSummary value) => report(value);
    }

    public sealed class HouseRow
    {
        public float Size { get; set; }
        public float Age { get; set; }
        public float Rooms { get; set; }
        public string District { get; set; } = "";
        public float Label { get; set; }

        public static IEnumerable<HouseRow> Generate(int count, int seed)
        {
            var random = new Random(seed);
            string[] districts = { "north", "south", "east", "west", "centre" };
            for (int i = 0; i < count; i++)
            {
                float size = 50 + 150 * (float)random.NextDouble();
                float age = 100 * (float)random.NextDouble();
                float rooms = random.Next(1, 7);
                int district = random.Next(districts.Length);
                double price = 2 * size - 0.01 * (age - 50) * (age - 50) + 10 * Math.Sin(rooms) + 40 * district;
                yield return new HouseRow { Size = size, Age = age, Rooms = rooms, District = districts[district], Label = (float)price };
            }
        }
    }

    public sealed class VectorRow
    {
        public const int Size = 4;

        public float Label { get; set; }

        [VectorType(Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public static IEnumerable<VectorRow> Generate(int count, int seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < count; i++)
            {
                float[] x = Enumerable.Range(0, Size).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
                double y = 3 * Math.Sin(2 * x[0]) + 0.5 * x[1] + 0.2 * x[2] * x[3];
                yield return new VectorRow { Label = (float)y, Features = x };
            }
        }
    }

    public sealed class WeightedRow
    {
        public float Target { get; set; }

        [VectorType(VectorRow.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Importance { get; set; }
    }

    public sealed class ScoreRow
    {
        public float Score { get; set; }
    }
}
