using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// The mean-field two-timescale trainer as an ML.NET component: pipeline, Evaluate, save/load, schema and option errors,
/// corrupted model files, missing features.
/// </summary>
[TestClass]
public sealed class MeanFieldTrainerTests
{
    private const int FeatureCount = 4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void PipelineTrainsEvaluatesAndRoundTripsThroughSaveAndLoad()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = mlContext.Data.LoadFromEnumerable(Rows(200, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(Rows(200, seed: 2));
        var progress = new List<MeanFieldStepSummary>();
        var trainer = mlContext.Regression.Trainers.MeanFieldTwoTimescale(new MeanFieldRegressionTrainer.Options
        {
            NumberOfParticles = 100,
            NumberOfSteps = 300,
            SecondLayerRidge = 0.001,
            Seed = 3,
            NumberOfThreads = 1,
            Progress = new Recorder(progress),
        });
        RegressionPredictionTransformer<MeanFieldModelParameters> model = trainer.Fit(train);

        RegressionMetrics metrics = mlContext.Regression.Evaluate(model.Transform(test));
        double zero = Rows(200, seed: 2).Average(r => (double)r.Label * r.Label);
        TestContext.WriteLine($"test MSE {metrics.MeanSquaredError:F4} (zero predictor {zero:F4}), {progress.Count} progress reports");
        Assert.IsLessThan(0.8 * zero, metrics.MeanSquaredError, "the network should learn part of x1·x2");
        Assert.IsGreaterThanOrEqualTo(100, progress.Count);
        Assert.AreEqual(300, progress[^1].Step);

        // The managed scorer reproduces the backend's own training error (standardised units) on the training rows.
        float[] labels = train.GetColumn<float>("Label").ToArray();
        float[] scores = model.Transform(train).GetColumn<float>("Score").ToArray();
        double trainingError = labels.Zip(scores, (y, s) => Math.Pow((s - y) / model.Model.LabelScale, 2)).Average();
        Assert.AreEqual(model.Model.TrainingCurve[^1].TrainingError, trainingError, 1e-5 * Math.Max(1, trainingError));

        using var stream = new MemoryStream();
        mlContext.Model.Save(model, train.Schema, stream);
        stream.Position = 0;
        var loaded = (RegressionPredictionTransformer<MeanFieldModelParameters>)new MLContext(seed: 9).Model.Load(stream, out _);
        float[] before = model.Transform(test).GetColumn<float>("Score").ToArray();
        float[] after = loaded.Transform(test).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after);
        CollectionAssert.AreEqual(model.Model.FirstLayerWeights.ToArray(), loaded.Model.FirstLayerWeights.ToArray());
        CollectionAssert.AreEqual(model.Model.TrainingCurve.ToArray(), loaded.Model.TrainingCurve.ToArray());
    }

    [TestMethod]
    public void MissingFeatureScoresNaN()
    {
        var mlContext = new MLContext(seed: 0);
        var model = QuickModel(mlContext);
        var rows = Rows(3, seed: 4).ToArray();
        rows[1].Features[2] = float.NaN;
        float[] scores = model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("Score").ToArray();
        Assert.IsTrue(float.IsFinite(scores[0]) && float.IsFinite(scores[2]));
        Assert.IsTrue(float.IsNaN(scores[1]));
    }

    [TestMethod]
    public void BadLabelColumnIsNamed()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(Rows(20, seed: 1));
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.MeanFieldTwoTimescale(labelColumnName: "Price").Fit(data));
        StringAssert.Contains(missing.Message, "Price");

        IDataView text = mlContext.Transforms.Conversion.ConvertType("Label", outputKind: DataKind.String).Fit(data).Transform(data);
        var wrongType = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.MeanFieldTwoTimescale().Fit(text));
        StringAssert.Contains(wrongType.Message, "Label");
    }

    [TestMethod]
    [DataRow(nameof(MeanFieldRegressionTrainer.Options.NumberOfParticles))]
    [DataRow(nameof(MeanFieldRegressionTrainer.Options.StepSize))]
    [DataRow(nameof(MeanFieldRegressionTrainer.Options.Temperature))]
    [DataRow(nameof(MeanFieldRegressionTrainer.Options.SecondLayerRidge))]
    [DataRow(nameof(MeanFieldRegressionTrainer.Options.LabelNoise))]
    public void InvalidOptionIsNamed(string option)
    {
        var options = new MeanFieldRegressionTrainer.Options();
        switch (option)
        {
            case nameof(options.NumberOfParticles): options.NumberOfParticles = 0; break;
            case nameof(options.StepSize): options.StepSize = double.NaN; break;
            case nameof(options.Temperature): options.Temperature = -1; break;
            case nameof(options.SecondLayerRidge): options.SecondLayerRidge = 0; break;
            case nameof(options.LabelNoise): options.LabelNoise = -0.5; break;
        }
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(seed: 0).Regression.Trainers.MeanFieldTwoTimescale(options));
        StringAssert.Contains(ex.Message, option);
    }

    [TestMethod]
    [DataRow(MeanFieldModelParameters.FirstLayerStreamName, DisplayName = "wrong first-layer count")]
    [DataRow(MeanFieldModelParameters.SecondLayerStreamName, DisplayName = "wrong second-layer count")]
    [DataRow("NaN", DisplayName = "non-finite weight")]
    [DataRow("Truncated", DisplayName = "truncated stream")]
    public void CorruptedModelBytesGiveAClearException(string corruption)
    {
        var mlContext = new MLContext(seed: 0);
        var model = QuickModel(mlContext);
        using var saved = new MemoryStream();
        mlContext.Model.Save(model, mlContext.Data.LoadFromEnumerable(Rows(1, seed: 0)).Schema, saved);
        byte[] bytes = saved.ToArray();
        using var corrupted = new MemoryStream();
        corrupted.Write(bytes);
        using (var zip = new ZipArchive(corrupted, ZipArchiveMode.Update, leaveOpen: true))
        {
            string streamName = corruption is "NaN" or "Truncated" ? MeanFieldModelParameters.FirstLayerStreamName : corruption;
            ZipArchiveEntry entry = zip.Entries.Single(e => e.Name == streamName);
            byte[] data;
            using (var reader = new MemoryStream())
            {
                using (Stream original = entry.Open())
                    original.CopyTo(reader);
                data = reader.ToArray();
            }
            if (corruption == "NaN")
                BitConverter.GetBytes(double.NaN).CopyTo(data, 8 + 8 * 2);
            else if (corruption == "Truncated")
                data = data.AsSpan(0, data.Length - 8).ToArray();
            else
                BitConverter.GetBytes(BitConverter.ToInt64(data) + 1).CopyTo(data, 0);
            entry.Delete();
            using Stream replacement = zip.CreateEntry(entry.FullName).Open();
            replacement.Write(data);
        }
        corrupted.Position = 0;
        Exception ex = Assert.Throws<Exception>(() => new MLContext(seed: 0).Model.Load(corrupted, out _));
        string messages = string.Join(" | ", Chain(ex).Select(e => e.Message));
        TestContext.WriteLine(messages);
        StringAssert.Contains(messages, "mean-field model");
    }

    private static RegressionPredictionTransformer<MeanFieldModelParameters> QuickModel(MLContext mlContext)
        => mlContext.Regression.Trainers.MeanFieldTwoTimescale(new MeanFieldRegressionTrainer.Options
        {
            NumberOfParticles = 20,
            NumberOfSteps = 5,
            Seed = 0,
            NumberOfThreads = 1,
        }).Fit(mlContext.Data.LoadFromEnumerable(Rows(30, seed: 1)));

    private static IEnumerable<Exception> Chain(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            yield return ex;
    }

    /// <summary>x ~ N(0, I_4), Label = x1·x2.</summary>
    private static IEnumerable<XorRow> Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<XorRow>(count);
        for (int i = 0; i < count; i++)
        {
            var x = new float[FeatureCount];
            for (int k = 0; k < FeatureCount; k++)
                x[k] = (float)(StandardNormal.Draw(random));
            rows.Add(new XorRow { Features = x, Label = x[0] * x[1] });
        }
        return rows;
    }

    private sealed class XorRow
    {
        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Label { get; set; }
    }

    private sealed class Recorder(List<MeanFieldStepSummary> points) : IProgress<MeanFieldStepSummary>
    {
        public void Report(MeanFieldStepSummary value) => points.Add(value);
    }
}
