using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// Inputs clipped to the training range (KareTrainerOptionsBase.ClipInputsToTrainingRange) as users meet them: the
/// model stores each standardised input's range over the training rows, a row beyond it scores as the nearest training
/// extreme, a saved model keeps the range, and the option off stores none.
/// </summary>
[TestClass]
public sealed class InputRangeModelTests
{
    private const int Rows = 60;

    [TestMethod]
    public void TheRangeIsTheTrainingRowsStandardisedExtremes()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, clip: true);
        ReliabilityFixtures.RegressionRow[] training = ReliabilityFixtures.RegressionRows(Rows, seed: 1);
        int inputs = model.Model.FeatureMeans.Count;
        Assert.HasCount(inputs, model.Model.InputLowerBounds);
        for (int j = 0; j < inputs; j++)
        {
            double[] z = training.Select(r => (r.Features[j] - model.Model.FeatureMeans[j]) / model.Model.FeatureScales[j]).ToArray();
            Assert.AreEqual(z.Min(), model.Model.InputLowerBounds[j], 1e-12, $"input {j}");
            Assert.AreEqual(z.Max(), model.Model.InputUpperBounds[j], 1e-12, $"input {j}");
        }
        var unclipped = Train(mlContext, clip: false);
        Assert.IsEmpty(unclipped.Model.InputLowerBounds);
        Assert.IsEmpty(unclipped.Model.InputUpperBounds);
        CollectionAssert.AreEqual(unclipped.Model.NetworkParameters.ToArray(), model.Model.NetworkParameters.ToArray(), "the fit does not depend on the range");
        CollectionAssert.AreEqual(unclipped.Model.PrimalWeights.ToArray(), model.Model.PrimalWeights.ToArray());
    }

    [TestMethod]
    public void ARowBeyondTheRangeScoresAsTheNearestTrainingExtremeAlsoWhenLoaded()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, clip: true);
        var unclipped = Train(mlContext, clip: false);
        ReliabilityFixtures.RegressionRow[] training = ReliabilityFixtures.RegressionRows(Rows, seed: 1);
        float largest = training.Max(r => r.Features[0]);
        float[] inside = { 0.5f, -0.25f, 1f, 0.1f, -0.6f };
        float[] beyond = (float[])inside.Clone();
        beyond[0] = 40;   // far beyond every training value (they lie in [−2, 2])
        float[] extreme = (float[])inside.Clone();
        extreme[0] = largest;

        float[] scores = Scores(mlContext, model, inside, beyond, extreme);
        Assert.AreEqual(scores[2], scores[1], 1e-5f * (1 + Math.Abs(scores[2])), "the far row scores as the training maximum");
        float[] extrapolated = Scores(mlContext, unclipped, inside, beyond, extreme);
        Assert.AreEqual(extrapolated[0], scores[0], "a row inside the range scores the same either way");
        Assert.AreEqual(extrapolated[2], scores[2], 1e-6f * (1 + Math.Abs(scores[2])));
        Assert.IsGreaterThan(0.01f, Math.Abs(extrapolated[1] - scores[1]), "the control: without the range the far row extrapolates");

        byte[] bytes = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model);
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, bytes);
        CollectionAssert.AreEqual(model.Model.InputLowerBounds.ToArray(), loaded.Model.InputLowerBounds.ToArray());
        CollectionAssert.AreEqual(model.Model.InputUpperBounds.ToArray(), loaded.Model.InputUpperBounds.ToArray());
        CollectionAssert.AreEqual(scores, Scores(mlContext, loaded, inside, beyond, extreme));
    }

    /// <summary>
    /// With a compressed column, normal scores and relevance weights all on, the range is of the inputs the network
    /// sees: every training row scores as it does without clipping (to rounding), and the range is not empty.
    /// </summary>
    [TestMethod]
    public void NoTrainingRowIsClippedWhateverTheInputsPreprocessing()
    {
        var mlContext = new MLContext(seed: 0);
        ReliabilityFixtures.RegressionRow[] training = ReliabilityFixtures.RegressionRows(Rows, seed: 1)
            .Select(r => new ReliabilityFixtures.RegressionRow { Label = r.Label, Features = r.Features.Select((v, j) => j == 0 ? MathF.Exp(3 * v) : v).ToArray() })
            .ToArray();
        float[][] scores = new[] { true, false }.Select(clip =>
        {
            KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
            options.RelevanceWeighting = KareRelevanceWeighting.AllInputs;
            options.ClipInputsToTrainingRange = clip;
            var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(training));
            if (clip)
            {
                Assert.IsGreaterThan(0.0, model.Model.FeatureCompressionScales[0], "the exponential column is compressed");
                Assert.IsNotEmpty(model.Model.NormalScoreColumns);
                Assert.IsTrue(model.Model.InputUpperBounds.Zip(model.Model.InputLowerBounds, (u, l) => u > l).All(b => b));
            }
            return Scores(mlContext, model, training.Select(r => r.Features).ToArray());
        }).ToArray();
        for (int i = 0; i < Rows; i++)
            Assert.AreEqual(scores[1][i], scores[0][i], 1e-6f * (1 + Math.Abs(scores[1][i])), $"training row {i}");
    }

    /// <summary>The multiclass model clips too: a row far beyond the blobs gets the class scores of the training extreme.</summary>
    [TestMethod]
    public void AMulticlassModelClipsToo()
    {
        var mlContext = new MLContext(seed: 0);
        MulticlassClassificationTests.BlobRow[] training = MulticlassClassificationTests.BlobRow.Generate(90, seed: 1).ToArray();
        KareMulticlassTrainer.Options options = MulticlassClassificationTests.FastOptions();
        options.AppendNormalScores = false;
        options.CompressSkewedFeatures = false;
        var model = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassClassificationTests.BlobRow.Species))
            .Append(mlContext.MulticlassClassification.Trainers.Kare(options))
            .Fit(mlContext.Data.LoadFromEnumerable(training));
        float largest = training.Max(r => r.Features[2]);
        var rows = new[] { 60f, largest }.Select(v => new MulticlassClassificationTests.BlobRow { Species = "alpha", Features = new[] { 0.2f, -0.1f, v } });
        float[][] scores = model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Score").ToArray();
        for (int k = 0; k < scores[0].Length; k++)
            Assert.AreEqual(scores[1][k], scores[0][k], 1e-5f, $"class {k}");
    }

    private static RegressionPredictionTransformer<KareRegressionModelParameters> Train(MLContext mlContext, bool clip)
    {
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.AppendNormalScores = false;      // the network's inputs are the features themselves
        options.CompressSkewedFeatures = false;
        options.ClipInputsToTrainingRange = clip;
        return ReliabilityFixtures.TrainRegression(mlContext, options, rows: Rows);
    }

    private static float[] Scores(MLContext mlContext, ITransformer model, params float[][] rows)
    {
        IDataView data = mlContext.Data.LoadFromEnumerable(rows.Select(x => new ReliabilityFixtures.RegressionRow { Features = x }));
        return model.Transform(data).GetColumn<float>("Score").ToArray();
    }
}
