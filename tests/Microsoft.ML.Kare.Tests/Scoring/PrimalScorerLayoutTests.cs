using System;
using System.Linq;
using MathNet.Numerics;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>
/// The scorer's fast layout (zero-padded rows, fused vectorised dot products, one pass per layer for the forward value
/// and every output's tangent, the tangent skipped when β ≡ 0) against the plain row-by-row Jacobian-vector product
/// written out here, one output at a time: the float scores must agree to within one unit in the last place (the sums
/// are formed in a different order), for widths that are and are not multiples of the vector length, several outputs,
/// with and without the network's own output; scorers of different shapes sharing a thread's scratch must not disturb
/// each other. And Cody's Φ in the GELU against MathNet's erf.
/// </summary>
[TestClass]
public sealed class PrimalScorerLayoutTests
{
    [TestMethod]
    [DataRow(10, new[] { 64 }, KareActivation.Gelu, 1, false)]
    [DataRow(26, new[] { 128, 128 }, KareActivation.Gelu, 1, false)]
    [DataRow(5, new[] { 7, 3 }, KareActivation.Gelu, 3, false)]
    [DataRow(5, new[] { 9, 6, 5 }, KareActivation.Relu, 2, true)]
    [DataRow(3, new[] { 13 }, KareActivation.Tanh, 1, true)]
    [DataRow(4, new[] { 8, 8 }, KareActivation.Gelu, 3, true)]
    public void FastLayoutMatchesPlainJacobianVectorProduct(int inputs, int[] widths, KareActivation activation, int outputs, bool includeNetworkOutput)
    {
        var random = new Random(inputs * 100 + widths.Sum() + outputs);
        var architecture = new KareNetworkArchitecture(inputs, widths, activation);
        int p = (int)architecture.ParameterCount;
        double[] theta = Enumerable.Range(0, p).Select(_ => 0.6 * StandardNormal.Draw(random)).ToArray();
        double[] beta = Enumerable.Range(0, p * outputs).Select(_ => 0.05 * StandardNormal.Draw(random)).ToArray();
        if (outputs > 1)
            Array.Clear(beta, p, p); // output 1 has β ≡ 0: its tangent is skipped
        double[] means = Enumerable.Range(0, inputs).Select(_ => StandardNormal.Draw(random)).ToArray();
        double[] scales = Enumerable.Range(0, inputs).Select(_ => 0.5 + random.NextDouble()).ToArray();
        double[] targetMeans = Enumerable.Range(0, outputs).Select(k => 0.3 * k - 1).ToArray();
        double[] targetScales = Enumerable.Range(0, outputs).Select(k => 2.0 + k).ToArray();
        var scorer = new PrimalScorer(architecture, theta, beta, means, scales, targetMeans, targetScales, includeNetworkOutput);

        var actual = new float[outputs];
        int compared = 0, identical = 0;
        for (int row = 0; row < 200; row++)
        {
            float[] x = Enumerable.Range(0, inputs).Select(j => (float)(means[j] + 2 * scales[j] * StandardNormal.Draw(random))).ToArray();
            scorer.Score(x, actual);
            for (int k = 0; k < outputs; k++)
            {
                float expected = PlainScore(architecture, theta, beta.AsSpan(k * p, p), means, scales, targetMeans[k], targetScales[k], includeNetworkOutput, x);
                Assert.IsLessThanOrEqualTo(1, UnitsApart(expected, actual[k]), $"row {row}, output {k}: plain {expected:R}, scorer {actual[k]:R}");
                identical += expected == actual[k] ? 1 : 0;
                compared++;
            }
        }
        Assert.AreEqual(200 * outputs, compared);
        Assert.IsGreaterThan(0.9 * compared, identical, "the float scores should mostly be identical; one-unit differences only at rounding boundaries");
    }

    /// <summary>Scorers of different shapes alternating on one thread (sharing its scratch) score as each does alone.</summary>
    [TestMethod]
    public void ScorersSharingAThreadDoNotDisturbEachOther()
    {
        var random = new Random(11);
        PrimalScorer Create(int inputs, int[] widths, int outputs)
        {
            var architecture = new KareNetworkArchitecture(inputs, widths, KareActivation.Gelu);
            int p = (int)architecture.ParameterCount;
            return new PrimalScorer(architecture, Enumerable.Range(0, p).Select(_ => 0.5 * StandardNormal.Draw(random)).ToArray(),
                Enumerable.Range(0, p * outputs).Select(_ => 0.1 * StandardNormal.Draw(random)).ToArray(), new double[inputs],
                Enumerable.Repeat(1.0, inputs).ToArray(), new double[outputs], Enumerable.Repeat(1.0, outputs).ToArray());
        }
        PrimalScorer wide = Create(21, new[] { 37, 19 }, 3);
        PrimalScorer narrow = Create(3, new[] { 5 }, 1);
        float[][] wideRows = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, 21).Select(_ => (float)StandardNormal.Draw(random)).ToArray()).ToArray();
        float[][] narrowRows = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, 3).Select(_ => (float)StandardNormal.Draw(random)).ToArray()).ToArray();
        float[][] wideAlone = wideRows.Select(x => { var o = new float[3]; wide.Score(x, o); return o; }).ToArray();
        float[][] narrowAlone = narrowRows.Select(x => { var o = new float[1]; narrow.Score(x, o); return o; }).ToArray();
        for (int i = 0; i < 20; i++)
        {
            var o = new float[3];
            var n = new float[1];
            wide.Score(wideRows[i], o);
            narrow.Score(narrowRows[i], n);
            CollectionAssert.AreEqual(wideAlone[i], o, $"wide row {i}");
            CollectionAssert.AreEqual(narrowAlone[i], n, $"narrow row {i}");
        }
    }

    private static int UnitsApart(float a, float b)
        => Math.Abs(BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    /// <summary>A model whose β is zero and that adds the network's output predicts mean + scale·f(z; θ) exactly.</summary>
    [TestMethod]
    public void ZeroPrimalWeightsWithNetworkOutputScoreTheNetwork()
    {
        var random = new Random(3);
        var architecture = new KareNetworkArchitecture(4, new[] { 6, 5 }, KareActivation.Tanh);
        int p = (int)architecture.ParameterCount;
        double[] theta = Enumerable.Range(0, p).Select(_ => StandardNormal.Draw(random)).ToArray();
        var scorer = new PrimalScorer(architecture, theta, new double[p], new double[4], Enumerable.Repeat(1.0, 4).ToArray(), new[] { 0.5 }, new[] { 2.0 }, includeNetworkOutput: true);
        var output = new float[1];
        float[] x = { 0.3f, -1.2f, 0.7f, 2.0f };
        scorer.Score(x, output);
        float expected = PlainScore(architecture, theta, new double[p], new double[4], Enumerable.Repeat(1.0, 4).ToArray(), 0.5, 2.0, true, x);
        Assert.AreEqual(expected, output[0]);
        Assert.AreNotEqual(0.5f, output[0]);
    }

    /// <summary>Cody's rational approximation of Φ (used by the GELU) agrees with Φ from MathNet's erf to 1e-15.</summary>
    [TestMethod]
    public void NormalCdfMatchesErf()
    {
        double[] points = Enumerable.Range(0, 16001).Select(i => -40 + 0.005 * i)
            .Concat(new[] { 0.0, -0.0, 0.66291, -0.66291, 5.6568542494923801952, -5.6568542494923801952, 1e-300, -1e-300, double.Epsilon })
            .ToArray();
        double worst = 0;
        foreach (double x in points)
        {
            double expected = 0.5 * (1 + SpecialFunctions.Erf(x * 0.70710678118654752440));
            double actual = ManagedActivations.NormalCdf(x, Math.Exp(-0.5 * x * x));
            worst = Math.Max(worst, Math.Abs(actual - expected));
        }
        Assert.IsLessThan(1e-15, worst, $"max |Φ_Cody − Φ_erf| = {worst:E2}");
        Assert.IsTrue(double.IsNaN(ManagedActivations.NormalCdf(double.NaN, double.NaN)));
        Assert.AreEqual(1.0, ManagedActivations.NormalCdf(double.PositiveInfinity, 0.0));
        Assert.AreEqual(0.0, ManagedActivations.NormalCdf(double.NegativeInfinity, 0.0));
    }

    /// <summary>The scorer before the layout change: one output at a time, row-major dot products, in this order.</summary>
    private static float PlainScore(KareNetworkArchitecture architecture, double[] theta, ReadOnlySpan<double> beta, double[] means, double[] scales,
        double targetMean, double targetScale, bool includeNetworkOutput, float[] x)
    {
        int inputs = architecture.InputCount;
        double[] a = Enumerable.Range(0, inputs).Select(j => (x[j] - means[j]) / scales[j]).ToArray();
        double[] da = new double[inputs];
        bool first = true;
        for (int layer = 0; layer < architecture.Depth; layer++)
        {
            int width = architecture.HiddenWidths[layer];
            int wOffset = (int)architecture.WeightOffset(layer);
            int bOffset = (int)architecture.BiasOffset(layer);
            var h = new double[width];
            var dh = new double[width];
            for (int r = 0; r < width; r++)
            {
                double hr = theta[bOffset + r];
                double dhr = beta[bOffset + r];
                for (int j = 0; j < inputs; j++)
                {
                    hr += theta[wOffset + r * inputs + j] * a[j];
                    dhr += beta[wOffset + r * inputs + j] * a[j];
                }
                if (!first)
                {
                    for (int j = 0; j < inputs; j++)
                        dhr += theta[wOffset + r * inputs + j] * da[j];
                }
                h[r] = hr;
                dh[r] = dhr;
            }
            a = new double[width];
            var slope = new double[width];
            ManagedActivations.Apply(architecture.Activation, h, a, slope);
            da = slope.Zip(dh, (s, d) => s * d).ToArray();
            inputs = width;
            first = false;
        }
        int outOffset = (int)architecture.OutputWeightOffset;
        double df = beta[outOffset + inputs];
        for (int j = 0; j < inputs; j++)
            df += beta[outOffset + j] * a[j] + theta[outOffset + j] * da[j];
        if (includeNetworkOutput)
        {
            df += theta[outOffset + inputs];
            for (int j = 0; j < inputs; j++)
                df += theta[outOffset + j] * a[j];
        }
        return (float)(targetMean + targetScale * df);
    }
}
