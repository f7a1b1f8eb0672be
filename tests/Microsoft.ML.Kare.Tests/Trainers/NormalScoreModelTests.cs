using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// The normal scores appended to the features (KareTrainerOptionsBase.AppendNormalScores) as users meet them: the network
/// gets one more input per scored column, the model takes rows of the original features, and a saved model keeps the
/// scores and scores every row as before.
/// </summary>
[TestClass]
public sealed class NormalScoreModelTests
{
    [TestMethod]
    public void TheNetworkSeesTheScoresAfterTheFeaturesAndTheModelTakesTheFeatures()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, append: true);
        int d = ReliabilityFixtures.RegressionRows(1, seed: 1)[0].Features.Length;
        int[] columns = model.Model.NormalScoreColumns.ToArray();
        Assert.IsNotEmpty(columns);
        Assert.AreEqual(d + columns.Length, model.Model.Architecture.InputCount);
        Assert.HasCount(d + columns.Length, model.Model.FeatureMeans);
        Assert.HasCount(d + columns.Length, model.Model.FeatureCompressionScales);

        var plain = Train(mlContext, append: false);
        Assert.IsEmpty(plain.Model.NormalScoreColumns);
        Assert.AreEqual(d, plain.Model.Architecture.InputCount);

        // The score column is the model's prediction of rows with d features; a row of another length is refused.
        IDataView data = mlContext.Data.LoadFromEnumerable(Rows(20, seed: 3));
        Assert.IsTrue(model.Transform(data).GetColumn<float>("Score").All(float.IsFinite));
        var engine = mlContext.Model.CreatePredictionEngine<ReliabilityFixtures.RegressionRow, ScoreRow>(model);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => engine.Predict(new ReliabilityFixtures.RegressionRow { Features = new float[d + 1] }));
        StringAssert.Contains(error.Message, $"trained on {d} features");
    }

    [TestMethod]
    public void ASavedModelKeepsItsScoresAndScoresAsBefore()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, append: true);
        byte[] bytes = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model);
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, bytes);
        CollectionAssert.AreEqual(model.Model.NormalScoreColumns.ToArray(), loaded.Model.NormalScoreColumns.ToArray());

        // Rows inside and far outside the training range: below the first knot, above the last, on a knot.
        ReliabilityFixtures.RegressionRow[] rows = Rows(40, seed: 8);
        rows[0].Features[0] = -1e6f;
        rows[1].Features[0] = 1e6f;
        rows[2].Features = (float[])Rows(80, seed: 1)[5].Features.Clone();
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);
        float[] before = model.Transform(data).GetColumn<float>("Score").ToArray();
        float[] after = loaded.Transform(data).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after);
        Assert.IsTrue(before.All(float.IsFinite), "every row scores");
    }

    private static RegressionPredictionTransformer<KareRegressionModelParameters> Train(MLContext mlContext, bool append)
    {
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.AppendNormalScores = append;
        return mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(Rows(80, seed: 1)));
    }

    /// <summary>The fixture's rows with the first feature made log-normal (its score is far from linear in it).</summary>
    private static ReliabilityFixtures.RegressionRow[] Rows(int count, int seed) => CompressedFeatureModelTests.Rows(count, seed);

    private sealed class ScoreRow
    {
        public float Score { get; set; }
    }
}
