using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// The trainers' compression of heavy-tailed features (KareTrainerOptionsBase.CompressSkewedFeatures) as users meet it:
/// on by default and chosen per column, off when asked, and kept by a saved model, which scores every row as before.
/// </summary>
[TestClass]
public sealed class CompressedFeatureModelTests
{
    [TestMethod]
    public void TheDefaultCompressesTheHeavyTailedColumnAndTheOptionTurnsItOff()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, compress: true);
        double[] scales = model.Model.FeatureCompressionScales.ToArray();
        Assert.IsGreaterThan(0, scales[0], "the log-normal column is compressed");
        Assert.IsTrue(scales.Skip(1).All(s => s == 0), "the uniform columns are not");

        var plain = Train(mlContext, compress: false);
        Assert.IsTrue(plain.Model.FeatureCompressionScales.All(s => s == 0));
        Assert.IsFalse(plain.Model.FeatureMeans.SequenceEqual(model.Model.FeatureMeans), "the standardisation follows the compressed column");
    }

    [TestMethod]
    public void ASavedModelKeepsItsCompressionAndScoresAsBefore()
    {
        var mlContext = new MLContext(seed: 0);
        var model = Train(mlContext, compress: true);
        byte[] bytes = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model);
        var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)ReliabilityFixtures.LoadFromBytes(mlContext, bytes);
        CollectionAssert.AreEqual(model.Model.FeatureCompressionScales.ToArray(), loaded.Model.FeatureCompressionScales.ToArray());

        // Rows inside and far outside the training range, negative values of the compressed column included.
        ReliabilityFixtures.RegressionRow[] rows = Rows(40, seed: 8);
        rows[0].Features[0] = -rows[0].Features[0];
        rows[1].Features[0] = 1e6f;
        rows[2].Features[0] = 0;
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);
        float[] before = model.Transform(data).GetColumn<float>("Score").ToArray();
        float[] after = loaded.Transform(data).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(before, after);
        Assert.IsTrue(before.All(float.IsFinite), "every row scores");
    }

    private static RegressionPredictionTransformer<KareRegressionModelParameters> Train(MLContext mlContext, bool compress)
    {
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.CompressSkewedFeatures = compress;
        return mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(Rows(80, seed: 1)));
    }

    /// <summary>The fixture's rows with the first feature made log-normal: 5·exp(4·x₀) for x₀ ~ U(−2, 2) (skewness about 4).</summary>
    internal static ReliabilityFixtures.RegressionRow[] Rows(int count, int seed)
    {
        ReliabilityFixtures.RegressionRow[] rows = ReliabilityFixtures.RegressionRows(count, seed);
        foreach (var row in rows)
            row.Features[0] = (float)(5 * Math.Exp(4 * row.Features[0]));
        return rows;
    }
}
