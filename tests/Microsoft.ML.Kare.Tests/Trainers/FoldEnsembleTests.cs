using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// The fold ensemble of cross-validation: one network per fold, scores that are the average of the networks' own
/// scores, and a saved file that keeps every network (and refuses a damaged or missing one clearly).
/// </summary>
[TestClass]
public sealed class FoldEnsembleTests
{
    private const string Signature = "KAREREGR";

    [TestMethod]
    public void ScoresAreTheAverageOfTheFoldNetworks()
    {
        var mlContext = new MLContext(seed: 1);
        var model = Train(mlContext);
        KareRegressionModelParameters ensemble = model.Model;
        Assert.IsGreaterThan(0, ensemble.SelectedEpoch, "a trained epoch (at epoch 0 the folds' networks are one network)");
        Assert.AreEqual(3, ensemble.NetworkCount);
        CollectionAssert.AreEqual(ensemble.NetworkParameters.ToArray(), ensemble.GetNetworkParameters(0).ToArray());
        Assert.IsFalse(ensemble.GetNetworkParameters(1).SequenceEqual(ensemble.GetNetworkParameters(2)), "each fold trains its own network");

        var rows = ReliabilityFixtures.RegressionRows(25, seed: 9);
        float[] scores = Scores(mlContext, model, rows);
        var members = Enumerable.Range(0, 3).Select(j => Scores(mlContext, Single(mlContext, ensemble, j), rows)).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            double mean = members.Average(m => (double)m[i]);
            Assert.AreEqual(mean, scores[i], 1e-6 * Math.Max(1, Math.Abs(mean)), $"row {i}: the mean of the networks' scores");
        }
    }

    [TestMethod]
    public void AnEnsembleKeptAtInitialisationIsOneNetwork()
    {
        var mlContext = new MLContext(seed: 1);
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.RidgeSelection = KareRidgeSelection.CrossValidation;
        options.NumberOfFolds = 3;
        options.NumberOfEpochs = 0;
        Assert.AreEqual(1, ReliabilityFixtures.TrainRegression(mlContext, options).Model.NetworkCount);
    }

    [TestMethod]
    public void SavedEnsembleKeepsEveryNetworkAndRefusesADamagedOne()
    {
        var mlContext = new MLContext(seed: 1);
        var model = Train(mlContext);
        byte[] saved = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model);
        var rows = ReliabilityFixtures.RegressionRows(25, seed: 9);
        CollectionAssert.AreEqual(Scores(mlContext, model, rows), Scores(mlContext, ReliabilityFixtures.LoadFromBytes(mlContext, saved), rows));

        string stream = KarePrimalModel.NetworkParametersStreamName.Replace(".bin", "2.bin", StringComparison.Ordinal);
        byte[] damaged = ModelZip.RewriteStream(saved, stream, data =>
        {
            byte[] copy = (byte[])data.Clone();
            copy[20] ^= 0x10;
            return copy;
        });
        Exception ex = Assert.ThrowsExactly<InvalidOperationException>(() => ReliabilityFixtures.LoadFromBytes(mlContext, damaged));
        LoadOutcome.AssertClear(ex, "a flipped byte in the third network's θ");
        StringAssert.Contains(LoadOutcome.Named(ex).Message, "The KARE model file is corrupted");

        byte[] fewer = ModelZip.RewriteKareModelEntry(saved, Signature, entry => ModelZip.RewriteModelBlock(entry, block =>
        {
            byte[] fields = ModelZip.Fields(block);
            // The fields end with the network count, the d compression scales, the normal score count (0), the input range
            // flag (1) and the 2d range bounds: claim a fourth network the file does not hold.
            int d = BitConverter.ToInt32(fields, 0);
            int networkCount = fields.Length - 16 * d - 4 - 4 - 8 * d - 4;
            Assert.AreEqual(3, BitConverter.ToInt32(fields, networkCount), "layout self-check: three fold networks");
            BitConverter.TryWriteBytes(fields.AsSpan(networkCount), 4);
            return ModelZip.WithFields(block, fields);
        }));
        ex = Assert.ThrowsExactly<InvalidOperationException>(() => ReliabilityFixtures.LoadFromBytes(mlContext, fewer));
        Assert.IsTrue(LoadOutcome.IsClear(ex, strict: false, out string reason), reason + ": " + ex);
    }

    private static RegressionPredictionTransformer<KareRegressionModelParameters> Train(MLContext mlContext)
    {
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.RidgeSelection = KareRidgeSelection.CrossValidation;
        options.NumberOfFolds = 3;
        options.NumberOfEpochs = 15;
        options.HiddenLayerWidths = new[] { 16 };
        options.AppendNormalScores = false; // a fixed layout at the end of the fields (the network count test above)
        return ReliabilityFixtures.TrainRegression(mlContext, options, rows: 150);
    }

    /// <summary>Network <paramref name="network"/> of the ensemble alone, as a one-network model.</summary>
    private static ITransformer Single(MLContext mlContext, KareRegressionModelParameters ensemble, int network)
    {
        var result = new KareFitResult
        {
            Architecture = ensemble.Architecture,
            Parameters = ensemble.GetNetworkParameters(network).ToArray(),
            PrimalWeights = ensemble.GetPrimalWeights(network).ToArray(),
            OutputCount = 1,
            FeatureMeans = ensemble.FeatureMeans.ToArray(),
            FeatureScales = ensemble.FeatureScales.ToArray(),
            FeatureCompressionScales = ensemble.FeatureCompressionScales.ToArray(),
            NormalScores = ensemble.NormalScores,
            TargetMeans = new[] { ensemble.LabelMean },
            TargetScales = new[] { ensemble.LabelScale },
            RelativeRidge = ensemble.RelativeRidge,
            Ridge = ensemble.Ridge,
            SelectedEpoch = ensemble.SelectedEpoch,
            TrainingCurve = ensemble.TrainingCurve,
        };
        var parameters = new KareRegressionModelParameters(mlContext, result);
        DataViewSchema schema = ReliabilityFixtures.SchemaOf<ReliabilityFixtures.RegressionRow>(mlContext);
        return KareRegressionTrainer.CreateTransformer(mlContext, parameters, schema, "Features");
    }

    private static float[] Scores(MLContext mlContext, ITransformer model, ReliabilityFixtures.RegressionRow[] rows)
        => model.Transform(mlContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("Score").ToArray();
}
