using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// Missing and infinite features at scoring time follow ML.NET's convention for a missing value (checked against its own
/// trainers), and a feature vector of the wrong length is a schema error when the transform or engine is created.
/// </summary>
[TestClass]
public sealed class ScoringInputTests
{
    private const int InputCount = 4;

    private static readonly float[][] NonFiniteRows =
    {
        new[] { float.NaN, 0f, 0f, 0f },
        new[] { 0.5f, float.PositiveInfinity, 0f, 0f },
        new[] { 0.5f, 0f, 0f, float.NegativeInfinity },
        new[] { float.NaN, float.NaN, float.NaN, float.NaN },
    };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(KareActivation.Gelu)]
    [DataRow(KareActivation.Relu)]
    [DataRow(KareActivation.Tanh)]
    public void RegressionScoresNaNForMissingOrInfiniteFeatures(KareActivation activation)
    {
        // Without the explicit check, ±∞ gave NaN or ±∞ depending on the activation and the signs of the weights.
        var mlContext = new MLContext(seed: 0);
        var model = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount, new[] { 1 }, activation));
        float[] scores = KareTestModels.Score(mlContext, model, NonFiniteRows, InputCount);
        Assert.IsTrue(scores.All(float.IsNaN), string.Join(", ", scores));

        using var engine = mlContext.Model.CreatePredictionEngine<KareTestModels.FeatureRow, ReliabilityFixtures.RegressionPrediction>(model,
            inputSchemaDefinition: FeatureSchema());
        foreach (float[] row in NonFiniteRows)
            Assert.IsTrue(float.IsNaN(engine.Predict(new KareTestModels.FeatureRow { Features = row }).Score));
        Assert.IsTrue(float.IsFinite(engine.Predict(new KareTestModels.FeatureRow { Features = new[] { 0.5f, 0f, 0f, 1f } }).Score));
    }

    [TestMethod]
    public void SparseRowWithAMissingValueScoresNaN()
    {
        var mlContext = new MLContext(seed: 0);
        var model = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount));
        var sparse = new VBuffer<float>(InputCount, 1, new[] { float.NaN }, new[] { 2 });
        var dense = new VBuffer<float>(InputCount, 1, new[] { 1.5f }, new[] { 2 });
        SchemaDefinition schema = SchemaDefinition.Create(typeof(SparseRow));
        schema[nameof(SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, InputCount);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new SparseRow { Features = sparse }, new SparseRow { Features = dense } }, schema);
        float[] scores = model.Transform(data).GetColumn<float>("Score").ToArray();
        Assert.IsTrue(float.IsNaN(scores[0]));
        Assert.IsTrue(float.IsFinite(scores[1]));
    }

    [TestMethod]
    public void BinaryFollowsMLNetLogisticRegressionForAMissingFeature()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = mlContext.Data.LoadFromEnumerable(BinaryClassificationTests.BlobRow.Generate(120, seed: 3));
        var kare = mlContext.BinaryClassification.Trainers.Kare(BinaryClassificationTests.FastOptions()).Fit(train);
        var lbfgs = mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression().Fit(train);
        var rows = new[]
        {
            new BinaryClassificationTests.BlobRow { Features = new[] { float.NaN, 0f, 0f } },
            new BinaryClassificationTests.BlobRow { Features = new[] { float.PositiveInfinity, 0f, 0f } },
            new BinaryClassificationTests.BlobRow { Features = new[] { 0f, float.NegativeInfinity, 0f } },
        };
        IDataView probe = mlContext.Data.LoadFromEnumerable(rows);
        IDataView kareScored = kare.Transform(probe);
        IDataView lbfgsScored = lbfgs.Transform(probe);
        float[] scores = kareScored.GetColumn<float>("Score").ToArray();
        float[] probabilities = kareScored.GetColumn<float>("Probability").ToArray();
        bool[] labels = kareScored.GetColumn<bool>("PredictedLabel").ToArray();
        TestContext.WriteLine($"L-BFGS: scores {string.Join(", ", lbfgsScored.GetColumn<float>("Score"))}, labels {string.Join(", ", lbfgsScored.GetColumn<bool>("PredictedLabel"))}");

        Assert.IsTrue(scores.All(float.IsNaN));
        Assert.IsTrue(probabilities.All(float.IsNaN));
        // ML.NET's own logistic regression on the NaN row: NaN score and probability, PredictedLabel false (NaN > 0 is false).
        Assert.IsTrue(float.IsNaN(lbfgsScored.GetColumn<float>("Score").First()));
        Assert.IsTrue(float.IsNaN(lbfgsScored.GetColumn<float>("Probability").First()));
        Assert.AreEqual(lbfgsScored.GetColumn<bool>("PredictedLabel").First(), labels[0]);
        // An infinite feature is treated as missing (a linear model's ±∞ score has no counterpart for a network).
        Assert.IsFalse(labels[1]);
        Assert.IsFalse(labels[2]);

        using var engine = mlContext.Model.CreatePredictionEngine<BinaryClassificationTests.BlobRow, BinaryClassificationTests.BinaryPrediction>(kare);
        var prediction = engine.Predict(rows[0]);
        Assert.IsTrue(float.IsNaN(prediction.Score) && float.IsNaN(prediction.Probability) && !prediction.PredictedLabel);
    }

    [TestMethod]
    public void MulticlassFollowsMLNetMaximumEntropyForAMissingFeature()
    {
        var mlContext = new MLContext(seed: 1);
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassClassificationTests.BlobRow.Species));
        IDataView raw = mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(150, seed: 3));
        ITransformer keys = toKey.Fit(raw);
        IDataView train = keys.Transform(raw);
        var kare = mlContext.MulticlassClassification.Trainers.Kare(MulticlassClassificationTests.FastOptions()).Fit(train);
        var sdca = mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy().Fit(train);
        var rows = new[]
        {
            new MulticlassClassificationTests.BlobRow { Species = "alpha", Features = new[] { float.NaN, 0f, 0f } },
            new MulticlassClassificationTests.BlobRow { Species = "alpha", Features = new[] { float.NaN, float.NaN, float.NaN } },
            new MulticlassClassificationTests.BlobRow { Species = "alpha", Features = new[] { float.PositiveInfinity, 0f, 0f } },
        };
        IDataView probe = keys.Transform(mlContext.Data.LoadFromEnumerable(rows));
        IDataView kareScored = kare.Transform(probe);
        IDataView sdcaScored = sdca.Transform(probe);
        float[][] kareScores = kareScored.GetColumn<float[]>("Score").ToArray();
        uint[] kareLabels = kareScored.GetColumn<uint>("PredictedLabel").ToArray();
        float[][] sdcaScores = sdcaScored.GetColumn<float[]>("Score").ToArray();
        uint[] sdcaLabels = sdcaScored.GetColumn<uint>("PredictedLabel").ToArray();
        TestContext.WriteLine($"SDCA: {string.Join(" | ", sdcaScores.Select((s, i) => $"[{string.Join(", ", s)}] → {sdcaLabels[i]}"))}");

        // ML.NET's convention for a missing feature: every class score NaN, PredictedLabel the missing key 0.
        for (int i = 0; i < 2; i++)
        {
            Assert.IsTrue(sdcaScores[i].All(float.IsNaN));
            Assert.AreEqual(0u, sdcaLabels[i]);
            Assert.IsTrue(kareScores[i].All(float.IsNaN), $"row {i}");
            Assert.AreEqual(sdcaLabels[i], kareLabels[i], $"row {i}");
        }
        // An infinite feature is treated as missing too (SDCA gives a partly-NaN vector that is no distribution there).
        Assert.IsTrue(kareScores[2].All(float.IsNaN));
        Assert.AreEqual(0u, kareLabels[2]);
    }

    [TestMethod]
    public void WrongFeatureLengthIsASchemaErrorWhenTheTransformOrEngineIsCreated()
    {
        var mlContext = new MLContext(seed: 0);
        var model = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount));
        IDataView tooLong = KareTestModels.CreateFeatureData(mlContext, new[] { new float[InputCount + 1] }, InputCount + 1);
        IDataView unknownLength = mlContext.Data.LoadFromEnumerable(new[] { new VariableRow { Features = new float[InputCount] } });

        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => model.Transform(tooLong));
        string kareMessage = ex.Message;
        TestContext.WriteLine(kareMessage);
        StringAssert.Contains(ex.Message, "features column");
        StringAssert.Contains(ex.Message, $"Vector<Single, {InputCount + 1}>");
        StringAssert.Contains(ex.Message, $"Vector<Single, {InputCount}>");
        ex = Assert.ThrowsExactly<InvalidOperationException>(() => model.Transform(unknownLength));
        StringAssert.Contains(ex.Message, "'Vector<Single>'");
        ex = Assert.ThrowsExactly<InvalidOperationException>(() => mlContext.Model.CreatePredictionEngine<VariableRow, ReliabilityFixtures.RegressionPrediction>(model));
        StringAssert.Contains(ex.Message, "features column");

        // The same check, message and moment as ML.NET's own trainers (it is ML.NET's check on the model's input type).
        IDataView train = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 20).Select(i => new LabelledRow { Label = i, Features = new float[] { i, 1, 2, 3 } }));
        var sdca = mlContext.Regression.Trainers.Sdca(maximumNumberOfIterations: 1).Fit(train);
        var sdcaEx = Assert.ThrowsExactly<InvalidOperationException>(() => sdca.Transform(tooLong));
        Assert.AreEqual(sdcaEx.Message, kareMessage);
    }

    private static SchemaDefinition FeatureSchema()
    {
        SchemaDefinition schema = SchemaDefinition.Create(typeof(KareTestModels.FeatureRow));
        schema[nameof(KareTestModels.FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, InputCount);
        return schema;
    }

    public sealed class SparseRow
    {
        public VBuffer<float> Features { get; set; }
    }

    public sealed class VariableRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class LabelledRow
    {
        public float Label { get; set; }

        [VectorType(InputCount)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
