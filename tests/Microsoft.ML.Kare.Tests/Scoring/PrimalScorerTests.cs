using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>
/// The managed primal scorer (docs/maths.md, "Primal form": forward-mode JVP of the network in direction β = Jᵀα) against the dual
/// KRR prediction mean + scale·K(z, Z)α with the structured NTK.
/// </summary>
/// <remarks>
/// The scorer reads float features and writes float outputs, so a prediction can only be compared to the float
/// nearest the double reference: the tests allow half a float ulp of output rounding plus 1e-9 relative.
/// </remarks>
[TestClass]
public sealed class PrimalScorerTests
{
    private const int InputCount = 4;
    private const int TrainRows = 20;
    private static readonly int[][] WidthsByDepth = { new[] { 8 }, new[] { 6, 5 }, new[] { 5, 7, 4 } };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1, KareActivation.Gelu, 1)]
    [DataRow(1, KareActivation.Relu, 1)]
    [DataRow(1, KareActivation.Tanh, 1)]
    [DataRow(2, KareActivation.Gelu, 1)]
    [DataRow(2, KareActivation.Relu, 1)]
    [DataRow(2, KareActivation.Tanh, 3)]
    [DataRow(3, KareActivation.Gelu, 3)]
    [DataRow(3, KareActivation.Relu, 1)]
    [DataRow(3, KareActivation.Tanh, 1)]
    public void PrimalPredictionEqualsDualKernelRidgePrediction(int depth, KareActivation activation, int outputs)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(1000 + 10 * depth + (int)activation + outputs);
        var architecture = new KareNetworkArchitecture(InputCount, WidthsByDepth[depth - 1], activation);
        double[] theta;
        using (MlpNetwork initial = MlpNetwork.Initialize(architecture, random))
            theta = initial.GetParameters().Select(t => 2 * t).ToArray();
        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);

        double[] featureMeans = Enumerable.Range(0, InputCount).Select(_ => 10 * random.NextDouble() - 5).ToArray();
        double[] featureScales = Enumerable.Range(0, InputCount).Select(_ => 0.1 + 3 * random.NextDouble()).ToArray();
        double[] targetMeans = Enumerable.Range(0, outputs).Select(k => 1.5 - k).ToArray();
        double[] targetScales = Enumerable.Range(0, outputs).Select(k => 0.5 + k).ToArray();

        // Training rows in standardised space, dual weights by a dense solve, primal weights β = Jᵀα.
        Matrix<double> z = Dense.Gaussian(TrainRows, InputCount, random);
        Matrix<double> y = Dense.Gaussian(TrainRows, outputs, random);
        NetworkFeatures trainFeatures = network.Features(Dense.ToTensor(z));
        Matrix<double> kernel = Dense.ToMatrix(StructuredNtk.ComputeDetached(trainFeatures, trainFeatures));
        double ridge = Reference.Ridge(kernel, 1e-3);
        Matrix<double> alpha = (kernel + TrainRows * ridge * Matrix<double>.Build.DenseIdentity(TrainRows)).Solve(y);
        double[] beta = StructuredNtk.TransposedJacobianTimes(trainFeatures, Dense.ToTensor(alpha));

        var scorer = new PrimalScorer(architecture, theta, beta, featureMeans, featureScales, targetMeans, targetScales);
        Assert.AreEqual(InputCount, scorer.InputCount);
        Assert.AreEqual(outputs, scorer.OutputCount);

        // Raw float test rows around the feature means; their standardised values computed as the scorer does.
        float[][] rows = Enumerable.Range(0, 12)
            .Select(_ => Enumerable.Range(0, InputCount).Select(j => (float)(featureMeans[j] + featureScales[j] * 1.5 * (2 * random.NextDouble() - 1))).ToArray())
            .ToArray();
        Matrix<double> testZ = Matrix<double>.Build.Dense(rows.Length, InputCount, (i, j) => (rows[i][j] - featureMeans[j]) / featureScales[j]);
        Matrix<double> cross = Dense.ToMatrix(StructuredNtk.ComputeDetached(network.Features(Dense.ToTensor(testZ)), trainFeatures));
        Matrix<double> dual = cross * alpha;

        double worstExcess = 0, worstRelative = 0;
        var output = new float[outputs];
        for (int i = 0; i < rows.Length; i++)
        {
            scorer.Score(rows[i], output);
            for (int k = 0; k < outputs; k++)
            {
                double expected = targetMeans[k] + targetScales[k] * dual[i, k];
                double error = Math.Abs(output[k] - expected);
                double halfUlp = 0.5 * (MathF.BitIncrement(MathF.Abs((float)expected)) - MathF.Abs((float)expected));
                worstRelative = Math.Max(worstRelative, error / Math.Abs(expected));
                worstExcess = Math.Max(worstExcess, Math.Max(0, error - halfUlp) / Math.Abs(expected));
            }
        }
        TestContext.WriteLine($"float output vs double dual: max relative {worstRelative:E3} (float rounding ≤ 6.0E-008)");
        Dense.AssertWithin(worstExcess, 1e-9, $"primal vs dual beyond output rounding, depth {depth} {activation} c={outputs}", TestContext);
        // The test is sensitive: the KRR part is a sizeable share of each prediction.
        Assert.IsGreaterThan(0.05, dual.Enumerate().Max(Math.Abs));
    }

    [TestMethod]
    public void NaNFeatureGivesNaNOutputs()
    {
        PrimalScorer scorer = CreateScorer(outputs: 2);
        var output = new float[2];
        scorer.Score(new[] { 0.5f, float.NaN, -1f, 2f }, output);
        Assert.IsTrue(output.All(float.IsNaN), $"got {string.Join(", ", output)}");
        scorer.Score(new[] { 0.5f, 0.25f, -1f, 2f }, output);
        Assert.IsTrue(output.All(float.IsFinite));
    }

    [TestMethod]
    public void WrongFeatureOrOutputCountIsRejected()
    {
        PrimalScorer scorer = CreateScorer(outputs: 1);
        var output = new float[1];
        Assert.ThrowsExactly<ArgumentException>(() => scorer.Score(new float[InputCount - 1], output));
        Assert.ThrowsExactly<ArgumentException>(() => scorer.Score(new float[InputCount + 1], output));
        Assert.ThrowsExactly<ArgumentException>(() => scorer.Score(new float[InputCount], new float[2]));
    }

    [TestMethod]
    public void InconsistentModelIsRejected()
    {
        var architecture = new KareNetworkArchitecture(InputCount, new[] { 3 }, KareActivation.Gelu);
        int p = (int)architecture.ParameterCount;
        double[] means = new double[InputCount], scales = Enumerable.Repeat(1.0, InputCount).ToArray();
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(architecture, new double[p - 1], new double[p], means, scales, new[] { 0.0 }, new[] { 1.0 }));
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(architecture, new double[p], new double[2 * p], means, scales, new[] { 0.0 }, new[] { 1.0 }));
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(architecture, new double[p], new double[p], means, scales, new[] { 0.0 }, new[] { 1.0, 2.0 }));
        Assert.ThrowsExactly<ArgumentException>(() => new PrimalScorer(architecture, new double[p], new double[p], new double[1], scales, new[] { 0.0 }, new[] { 1.0 }));
    }

    private static PrimalScorer CreateScorer(int outputs)
    {
        var architecture = new KareNetworkArchitecture(InputCount, new[] { 5, 3 }, KareActivation.Tanh);
        var random = new Random(4);
        int p = (int)architecture.ParameterCount;
        return new PrimalScorer(architecture,
            Dense.Gaussian(1, p, random, 0.5).Row(0).ToArray(),
            Dense.Gaussian(1, p * outputs, random, 0.1).Row(0).ToArray(),
            new double[InputCount], Enumerable.Repeat(2.0, InputCount).ToArray(),
            Enumerable.Repeat(1.0, outputs).ToArray(), Enumerable.Repeat(3.0, outputs).ToArray());
    }
}
