using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Networks;

[TestClass]
public sealed class MlpNetworkTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ParametersRoundTripThroughTheFlatLayout()
    {
        using var scope = torch.NewDisposeScope();
        var architecture = new KareNetworkArchitecture(4, new[] { 3, 5 }, KareActivation.Tanh);
        double[] theta = Enumerable.Range(0, (int)architecture.ParameterCount).Select(i => 0.01 * i - 0.3).ToArray();
        Assert.HasCount(4 * 3 + 3 + 3 * 5 + 5 + 5 + 1, theta);

        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);
        CollectionAssert.AreEqual(theta, network.GetParameters());
        // Layout: W_1 is row-major 3×4 at offset 0, b_1 follows, …, w_out then b_out last.
        CollectionAssert.AreEqual(new long[] { 3, 4 }, network.Parameters[0].shape);
        Assert.AreEqual(theta[1 * 4 + 2], network.Parameters[0][1, 2].item<double>());
        Assert.AreEqual(theta[12 + 2], network.Parameters[1][2].item<double>());
        Assert.AreEqual(theta[^1], network.Parameters[^1][0].item<double>());
        Assert.IsTrue(network.Parameters.All(p => p.requires_grad && p.dtype == ScalarType.Float64));

        double[] other = theta.Select(t => -2 * t + 1).ToArray();
        network.SetParameters(other);
        CollectionAssert.AreEqual(other, network.GetParameters());
        Assert.IsTrue(network.IsFinite());
        other[7] = double.NaN;
        network.SetParameters(other);
        Assert.IsFalse(network.IsFinite());

        Assert.ThrowsExactly<ArgumentException>(() => MlpNetwork.FromParameters(architecture, theta.Take(theta.Length - 1).ToArray()));
    }

    [TestMethod]
    public void InitializationIsDeterministicAndUniformWithinFanInBound()
    {
        using var scope = torch.NewDisposeScope();
        var architecture = new KareNetworkArchitecture(30, new[] { 40, 10 }, KareActivation.Gelu);
        double[] first, second, otherSeed;
        using (MlpNetwork a = MlpNetwork.Initialize(architecture, new Random(5)))
            first = a.GetParameters();
        using (MlpNetwork b = MlpNetwork.Initialize(architecture, new Random(5)))
            second = b.GetParameters();
        using (MlpNetwork c = MlpNetwork.Initialize(architecture, new Random(6)))
            otherSeed = c.GetParameters();
        CollectionAssert.AreEqual(first, second, "same seed, same θ");
        CollectionAssert.AreNotEqual(first, otherSeed, "another seed, another θ");

        // Blocks (start, end, fan-in): layer l's W and b share bound 1/√(inputs of layer l); w_out and b_out 1/√width_L.
        var blocks = new (int Start, int End, int FanIn)[]
        {
            (0, 40 * 30 + 40, 30),
            (40 * 31, 40 * 31 + 10 * 41, 40),
            (40 * 31 + 10 * 41, first.Length, 10),
        };
        Assert.AreEqual(first.Length, blocks[^1].End);
        foreach (var (start, end, fanIn) in blocks)
        {
            double bound = 1 / Math.Sqrt(fanIn);
            double[] block = first[start..end];
            Assert.IsTrue(block.All(v => Math.Abs(v) <= bound), $"a value outside ±1/√{fanIn}");
            // Uniform on [−bound, bound]: fills the interval, mean ≈ 0, variance ≈ bound²/3 (four-sigma bands).
            int m = block.Length;
            Assert.IsGreaterThan(bound * (1 - 20.0 / m), block.Max(), $"max of block with fan-in {fanIn}");
            Assert.IsLessThan(-bound * (1 - 20.0 / m), block.Min(), $"min of block with fan-in {fanIn}");
            Assert.AreEqual(0.0, block.Average(), 4 * bound / Math.Sqrt(3 * m), $"mean of block with fan-in {fanIn}");
            double variance = block.Select(v => v * v).Average();
            Assert.AreEqual(bound * bound / 3, variance, 4 * bound * bound * Math.Sqrt(4.0 / 45 / m), $"variance of block with fan-in {fanIn}");
        }
    }

    [TestMethod]
    [DataRow(KareActivation.Gelu, new[] { 6 })]
    [DataRow(KareActivation.Relu, new[] { 5, 4 })]
    [DataRow(KareActivation.Tanh, new[] { 4, 6, 3 })]
    public void FeaturesMatchHandWrittenForwardPass(KareActivation activation, int[] widths)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(widths.Length);
        var architecture = new KareNetworkArchitecture(3, widths, activation);
        double[] theta = Dense.Gaussian(1, (int)architecture.ParameterCount, random, 0.7).Row(0).ToArray();
        Matrix<double> x = Dense.Gaussian(9, 3, random, 1.5);
        using MlpNetwork network = MlpNetwork.FromParameters(architecture, theta);
        NetworkFeatures features = network.Features(Dense.ToTensor(x));

        Assert.AreEqual(9L, features.RowCount);
        Assert.HasCount(widths.Length + 1, features.Activations);
        Assert.HasCount(widths.Length, features.Deltas);
        double[] outputs = features.Outputs.detach().data<double>().ToArray();
        double worst = 0;
        for (int i = 0; i < x.RowCount; i++)
        {
            var (activations, output) = Reference.Forward(architecture, theta, x.Row(i).ToArray());
            worst = Math.Max(worst, Math.Abs(output - outputs[i]) / Math.Max(1, Math.Abs(output)));
            for (int l = 1; l <= widths.Length; l++)
            {
                double[] row = features.Activations[l][i].detach().data<double>().ToArray();
                worst = Math.Max(worst, Dense.RelativeError(activations[l], row));
            }
        }
        Dense.AssertWithin(worst, 1e-13, $"outputs and activations vs plain C# forward ({activation}, depth {widths.Length})", TestContext);
    }
}
