using System.Linq;
using System;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>The compression x ↦ sign(x)·ln(1 + |x|/s) of heavy-tailed features (<see cref="FeatureCompression"/>) and the scorer's use of it.</summary>
[TestClass]
public sealed class FeatureCompressionTests
{
    private const int InputCount = 3;

    [TestMethod]
    public void TheMapIsOddIncreasingAndScaled()
    {
        Assert.AreEqual(Math.Log(2), FeatureCompression.Apply(7.5, 7.5), 1e-15);
        Assert.AreEqual(1, FeatureCompression.Apply((Math.E - 1) * 0.25, 0.25), 1e-15);
        Assert.AreEqual(0, FeatureCompression.Apply(0, 3));
        Assert.AreEqual(-123.4, FeatureCompression.Apply(-123.4, 0), "scale 0 keeps the value");
        double previous = double.NegativeInfinity;
        foreach (double x in Enumerable.Range(-50, 101).Select(i => Math.Sinh(i / 5.0)))
        {
            double y = FeatureCompression.Apply(x, 2);
            Assert.AreEqual(-y, FeatureCompression.Apply(-x, 2), 0, $"odd at {x}");
            Assert.IsGreaterThan(previous, y, $"increasing at {x}");
            previous = y;
        }
        Assert.IsFalse(FeatureCompression.Any(new double[3]));
        Assert.IsTrue(FeatureCompression.Any(new[] { 0, 0.5, 0 }));
        Assert.IsNull(FeatureCompression.FindProblem(null, 3));
        Assert.IsNotNull(FeatureCompression.FindProblem(new[] { 0.0, -1.0, 0.0 }, 3));
        Assert.IsNotNull(FeatureCompression.FindProblem(new[] { 0.0, double.NaN, 0.0 }, 3));
        Assert.IsNotNull(FeatureCompression.FindProblem(new[] { 0.0 }, 3));
    }

    [TestMethod]
    public void TheScorerCompressesAsTheMapBeforeStandardising()
    {
        // Independent path: the same network without compression, fed the compressed rows. Its inputs are floats, so the
        // two agree to the float rounding of the compressed features (about 1e-7 relative), far below any error of the map.
        var architecture = new KareNetworkArchitecture(InputCount, new[] { 6, 4 }, KareActivation.Gelu);
        var random = new Random(7);
        int p = (int)architecture.ParameterCount;
        double[] theta = Dense.Gaussian(1, p, random, 0.5).Row(0).ToArray(), beta = Dense.Gaussian(1, 2 * p, random, 0.1).Row(0).ToArray();
        double[] means = { 0.3, -1, 2 }, scales = { 1.5, 0.7, 2 }, compression = { 4, 0, 0.5 };
        double[] targetMeans = { 1, -2 }, targetScales = { 3, 0.5 };
        var compressing = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales, featureCompressionScales: compression);
        var plain = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales);

        var expected = new float[2];
        var actual = new float[2];
        for (int row = 0; row < 50; row++)
        {
            float[] x = Enumerable.Range(0, InputCount).Select(_ => (float)(Math.Sinh(6 * random.NextDouble() - 3) * 20)).ToArray();
            float[] compressed = x.Select((v, j) => (float)FeatureCompression.Apply(v, compression[j])).ToArray();
            compressing.Score(x, actual);
            plain.Score(compressed, expected);
            for (int k = 0; k < 2; k++)
                Assert.AreEqual(expected[k], actual[k], 1e-5 * (Math.Abs(expected[k]) + targetScales[k]), $"row {row}, output {k}");
        }
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales,
            featureCompressionScales: new[] { 1.0, -1.0, 0.0 }));
    }
}
