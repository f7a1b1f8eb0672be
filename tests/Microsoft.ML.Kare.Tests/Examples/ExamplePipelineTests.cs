using System;
using System.IO;
using System.Linq;
using BreastCancerBinary;
using DiabetesRegression;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using WineMulticlass;

namespace Microsoft.ML.Kare.Tests.Examples;

/// <summary>
/// The Model Builder-style examples (<c>examples/Diabetes.Regression</c>, <c>BreastCancer.Binary</c>,
/// <c>Wine.Multiclass</c>) end to end on the CSV files they ship: their pipeline trains on the 80/20 split they use, scores
/// the held-out rows well, and the model saves, loads and predicts through the consumption helpers as before saving.
/// The examples' model code is compiled into this project (see the project file).
/// </summary>
[TestClass]
public sealed class ExamplePipelineTests
{
    private const int Seed = 0;

    [TestMethod]
    [TestCategory("Examples")]
    public void DiabetesPipelineTrainsSavesAndLoads()
    {
        var mlContext = new MLContext(seed: Seed);
        IDataView data = DiabetesModel.LoadData(mlContext, ExamplePaths.DataFile("diabetes.csv"));
        DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: Seed);

        ITransformer model = DiabetesModel.Train(mlContext, split.TrainSet, seed: Seed);
        RegressionMetrics metrics = mlContext.Regression.Evaluate(model.Transform(split.TestSet), labelColumnName: DiabetesModel.LabelColumn);
        Assert.IsGreaterThan(0.3, metrics.RSquared, $"held-out R² {metrics.RSquared:F3}");

        DiabetesModel.ModelInput[] rows = mlContext.Data.CreateEnumerable<DiabetesModel.ModelInput>(split.TestSet, reuseRowObject: false).Take(20).ToArray();
        float[] expected = model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("Score").ToArray();
        string path = TemporaryModelPath();
        try
        {
            DiabetesModel.Save(mlContext, model, data.Schema, path);
            DiabetesModel.ModelPath = path;
            float[] actual = DiabetesModel.PredictBatch(rows).Select(p => p.Score).ToArray();
            AssertClose(expected, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [TestCategory("Examples")]
    public void BreastCancerPipelineTrainsSavesAndLoads()
    {
        var mlContext = new MLContext(seed: Seed);
        IDataView data = BreastCancerModel.LoadData(mlContext, ExamplePaths.DataFile("breast_cancer.csv"));
        DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: Seed);

        ITransformer model = BreastCancerModel.Train(mlContext, split.TrainSet, seed: Seed);
        CalibratedBinaryClassificationMetrics metrics = mlContext.BinaryClassification.Evaluate(model.Transform(split.TestSet), labelColumnName: BreastCancerModel.LabelColumn);
        Assert.IsGreaterThan(0.9, metrics.Accuracy, $"held-out accuracy {metrics.Accuracy:F3}");

        BreastCancerModel.ModelInput[] rows = mlContext.Data.CreateEnumerable<BreastCancerModel.ModelInput>(split.TestSet, reuseRowObject: false).Take(20).ToArray();
        float[] expected = model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("Probability").ToArray();
        string path = TemporaryModelPath();
        try
        {
            BreastCancerModel.Save(mlContext, model, data.Schema, path);
            BreastCancerModel.ModelPath = path;
            float[] actual = BreastCancerModel.PredictBatch(rows).Select(p => p.Probability).ToArray();
            AssertClose(expected, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [TestCategory("Examples")]
    public void WinePipelineTrainsSavesAndLoads()
    {
        var mlContext = new MLContext(seed: Seed);
        IDataView data = WineModel.LoadData(mlContext, ExamplePaths.DataFile("wine.csv"));
        DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: Seed);

        ITransformer model = WineModel.Train(mlContext, split.TrainSet, seed: Seed);
        MulticlassClassificationMetrics metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet), labelColumnName: WineModel.LabelColumn);
        Assert.IsGreaterThan(0.9, metrics.MicroAccuracy, $"held-out accuracy {metrics.MicroAccuracy:F3}");

        WineModel.ModelInput[] rows = mlContext.Data.CreateEnumerable<WineModel.ModelInput>(split.TestSet, reuseRowObject: false).ToArray();
        float[] expected = model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("PredictedLabel").ToArray();
        string path = TemporaryModelPath();
        try
        {
            WineModel.Save(mlContext, model, data.Schema, path);
            WineModel.ModelPath = path;
            var predictions = WineModel.PredictBatch(rows);
            CollectionAssert.AreEqual(expected, predictions.Select(p => p.PredictedCultivar).ToArray());
            Assert.IsTrue(predictions.All(p => p.Score.Length == 3 && Math.Abs(p.Score.Sum() - 1) < 1e-4), "class probabilities sum to 1");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string TemporaryModelPath() => Path.Combine(Path.GetTempPath(), $"kare-example-{Guid.NewGuid():N}.zip");

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"row {i}");
    }
}
