using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Kare.Tests.Trainers.KareRegressionTrainerPipelineTests;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>Every <see cref="KareMethod"/> in an ML.NET pipeline: trains, evaluates, and round-trips through save/load.</summary>
[TestClass]
public sealed class KareMethodsPipelineTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(KareMethod.Kare)]
    [DataRow(KareMethod.AfterKernel)]
    [DataRow(KareMethod.NeuralNetwork)]
    [DataRow(KareMethod.NtkAtInitialization)]
    [DataRow(KareMethod.IterativeLinearizationKernel)]
    [DataRow(KareMethod.IterativeLinearizationNetwork)]
    public void RegressionMethodTrainsEvaluatesAndRoundTrips(KareMethod method)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(200, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(100, seed: 2));
        var pipeline = mlContext.Transforms.NormalizeMinMax("Features")
            .Append(mlContext.Regression.Trainers.Kare(new KareRegressionTrainer.Options
            {
                Method = method,
                HiddenLayerWidths = new[] { 32 },
                NumberOfEpochs = 30,
                MeanSquaredErrorLearningRate = 0.2,
                RelinearizationInterval = 5,
                Seed = 4,
            }));
        var model = pipeline.Fit(train);
        KareRegressionModelParameters parameters = model.LastTransformer.Model;
        Assert.AreEqual(method, parameters.Method);

        RegressionMetrics metrics = mlContext.Regression.Evaluate(model.Transform(test));
        TestContext.WriteLine($"{method}: R² = {metrics.RSquared:F3}, selected epoch {parameters.SelectedEpoch}");
        // A smooth function of 4 features: every method fits it well (R² 0.94–1.00 measured).
        Assert.IsGreaterThan(0.8, metrics.RSquared, $"{method} should explain much of a smooth target.");

        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"method-{method}-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var loaded = (TransformerChain<ITransformer>)mlContext.Model.Load(path, out _);
        var loadedKare = (RegressionPredictionTransformer<KareRegressionModelParameters>)loaded.LastTransformer;
        Assert.AreEqual(method, loadedKare.Model.Method);
        float[] before = model.Transform(test).GetColumn<float>("Score").ToArray();
        float[] after = loaded.Transform(test).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after);
        File.Delete(path);
    }

    [TestMethod]
    public void BinaryClassifierPredictsWithTheNetwork()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BinaryClassificationTests.BlobRow.Generate(200, seed: 1));
        IDataView test = mlContext.Data.LoadFromEnumerable(BinaryClassificationTests.BlobRow.Generate(200, seed: 2));
        var model = mlContext.BinaryClassification.Trainers.Kare(new KareBinaryTrainer.Options
        {
            Method = KareMethod.NeuralNetwork,
            HiddenLayerWidths = new[] { 16 },
            NumberOfEpochs = 40,
            MeanSquaredErrorLearningRate = 0.2,
            Seed = 2,
        }).Fit(train);
        CalibratedBinaryClassificationMetrics metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test));
        TestContext.WriteLine($"network: AUC = {metrics.AreaUnderRocCurve:F3}, log-loss = {metrics.LogLoss:F3}");
        Assert.IsGreaterThan(0.9, metrics.AreaUnderRocCurve);
        Assert.IsLessThan(0.6, metrics.LogLoss, "the probabilities are calibrated");
    }

    [TestMethod]
    public void MulticlassRejectsMethodsThatTrainTheNetworkOutput()
    {
        var mlContext = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options { Method = KareMethod.AfterKernel }));
        StringAssert.Contains(error.Message, "Method");
    }
}
