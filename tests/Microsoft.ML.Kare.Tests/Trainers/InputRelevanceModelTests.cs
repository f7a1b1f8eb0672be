using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// Relevance-weighted inputs (KareTrainerOptionsBase.RelevanceWeighting) as users meet them: the weights are folded
/// into the model's feature scales, so the model takes the same rows, and a saved model scores every row as before.
/// </summary>
[TestClass]
public sealed class InputRelevanceModelTests
{
    [TestMethod]
    public void TheWeightsAreFoldedIntoTheFeatureScales()
    {
        var mlContext = new MLContext(seed: 0);
        var weighted = Train(mlContext, weight: true);
        var plain = Train(mlContext, weight: false);
        CollectionAssert.AreEqual(plain.Model.FeatureMeans.ToArray(), weighted.Model.FeatureMeans.ToArray());

        // y = sin(x₀) + x₁·x₂ − 0.5·x₃ + noise: x₀ and x₃ carry the label alone, x₁ and x₂ only together, x₄ not at all.
        double[] weights = plain.Model.FeatureScales.Zip(weighted.Model.FeatureScales, (p, w) => p / w).ToArray();
        Assert.AreEqual(1.0, weights.Average(w => w * w), 1e-12, string.Join(", ", weights));
        string shown = string.Join(", ", weights);
        Assert.IsTrue(weights[0] > 1 && weights[3] > 1, shown);
        Assert.IsTrue(weights[1] < 1 && weights[2] < 1 && weights[4] < 1, shown);
    }

    [TestMethod]
    public void ASavedWeightedModelScoresAsBefore()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, weight: true);
        byte[] bytes = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model);
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, bytes);
        IDataView data = mlContext.Data.LoadFromEnumerable(ReliabilityFixtures.RegressionRows(30, seed: 9));
        float[] before = model.Transform(data).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, loaded.Transform(data).GetColumn<float>("Score").ToArray());
        Assert.IsTrue(before.All(float.IsFinite));
    }

    [TestMethod]
    public void AutomaticWeightsIndicatorsAboveOneThousandRowsOnly()
    {
        Assert.AreEqual(KareRelevanceWeighting.None, Microsoft.ML.Kare.Training.InputRelevance.Resolve(KareRelevanceWeighting.Automatic, 1000));
        Assert.AreEqual(KareRelevanceWeighting.Indicators, Microsoft.ML.Kare.Training.InputRelevance.Resolve(KareRelevanceWeighting.Automatic, 1001));
        Assert.AreEqual(KareRelevanceWeighting.AllInputs, Microsoft.ML.Kare.Training.InputRelevance.Resolve(KareRelevanceWeighting.AllInputs, 10));
        Assert.AreEqual(KareRelevanceWeighting.None, Microsoft.ML.Kare.Training.InputRelevance.Resolve(KareRelevanceWeighting.None, 5000));
        Assert.AreEqual(KareRelevanceWeighting.Automatic, new KareRegressionTrainer.Options().RelevanceWeighting);

        // 60 rows: Automatic weights nothing, so the model is the unweighted one bit for bit.
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.RelevanceWeighting = KareRelevanceWeighting.Automatic;
        var automatic = ReliabilityFixtures.TrainRegression(mlContext, options);
        options.RelevanceWeighting = KareRelevanceWeighting.None;
        var none = ReliabilityFixtures.TrainRegression(mlContext, options);
        CollectionAssert.AreEqual(none.Model.FeatureScales.ToArray(), automatic.Model.FeatureScales.ToArray());
    }

    [TestMethod]
    public void AnUndefinedWeightingIsRefusedByName()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.RelevanceWeighting = (KareRelevanceWeighting)17;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ReliabilityFixtures.TrainRegression(mlContext, options));
        StringAssert.Contains(error.Message, "RelevanceWeighting");
    }

    private static RegressionPredictionTransformer<KareRegressionModelParameters> Train(MLContext mlContext, bool weight)
    {
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.AppendNormalScores = false;
        options.RelevanceWeighting = weight ? KareRelevanceWeighting.AllInputs : KareRelevanceWeighting.None;
        return ReliabilityFixtures.TrainRegression(mlContext, options, rows: 200);
    }
}
