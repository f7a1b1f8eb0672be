using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Kernels;

/// <summary>
/// The structured NTK (docs/maths.md, "Empirical NTK") against the Jacobian NTK J Jᵀ, with J from per-sample autograd through a forward
/// pass written with torch's built-in activations.
/// </summary>
[TestClass]
public sealed class StructuredNtkTests
{
    private const int InputCount = 3;
    private static readonly int[][] WidthsByDepth = { new[] { 7 }, new[] { 6, 5 }, new[] { 5, 4, 6 } };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1, KareActivation.Gelu)]
    [DataRow(1, KareActivation.Relu)]
    [DataRow(1, KareActivation.Tanh)]
    [DataRow(2, KareActivation.Gelu)]
    [DataRow(2, KareActivation.Relu)]
    [DataRow(2, KareActivation.Tanh)]
    [DataRow(3, KareActivation.Gelu)]
    [DataRow(3, KareActivation.Relu)]
    [DataRow(3, KareActivation.Tanh)]
    public void KernelAndCrossKernelEqualJacobianNtk(int depth, KareActivation activation)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(10 * depth + (int)activation);
        using MlpNetwork network = CreateNetwork(depth, activation, random);
        Matrix<double> x = Dense.Gaussian(6, InputCount, random, 1.5);
        Matrix<double> xTest = Dense.Gaussian(4, InputCount, random, 1.5);

        Matrix<double> jacobian = Reference.Jacobian(network, x);
        Matrix<double> testJacobian = Reference.Jacobian(network, xTest);
        NetworkFeatures features = network.Features(Dense.ToTensor(x));
        NetworkFeatures testFeatures = network.Features(Dense.ToTensor(xTest));

        Matrix<double> kernel = Dense.ToMatrix(StructuredNtk.Compute(features, features));
        Matrix<double> cross = Dense.ToMatrix(StructuredNtk.Compute(testFeatures, features));

        Dense.AssertWithin(Dense.RelativeError(jacobian * jacobian.Transpose(), kernel), 1e-12, $"K(X,X) depth {depth} {activation}", TestContext);
        Dense.AssertWithin(Dense.RelativeError(testJacobian * jacobian.Transpose(), cross), 1e-12, $"K(X',X) depth {depth} {activation}", TestContext);
        Assert.AreEqual(4, cross.RowCount);
        Assert.AreEqual(6, cross.ColumnCount);
    }

    [TestMethod]
    [DataRow(3)]
    [DataRow(4)]
    [DataRow(64)]
    public void ComputeDetachedInBlocksEqualsCompute(int blockRows)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(blockRows);
        using MlpNetwork network = CreateNetwork(2, KareActivation.Gelu, random);
        NetworkFeatures a = network.Features(Dense.ToTensor(Dense.Gaussian(11, InputCount, random)));
        NetworkFeatures b = network.Features(Dense.ToTensor(Dense.Gaussian(7, InputCount, random)));

        Tensor detached = StructuredNtk.ComputeDetached(a, b, blockRows);
        Assert.IsFalse(detached.requires_grad, "ComputeDetached must return a tensor without autograd history.");
        Matrix<double> expected = Dense.ToMatrix(StructuredNtk.Compute(a, b));
        Dense.AssertWithin(Dense.RelativeError(expected, Dense.ToMatrix(detached)), 1e-14, $"blocks of {blockRows}", TestContext);

        Matrix<double> square = Dense.ToMatrix(StructuredNtk.ComputeDetached(a, a, blockRows));
        Dense.AssertWithin(Dense.RelativeError(Dense.ToMatrix(StructuredNtk.Compute(a, a)), square), 1e-14, $"square, blocks of {blockRows}", TestContext);

        int checks = 0;
        StructuredNtk.ComputeDetached(a, b, blockRows, () => checks++);
        Assert.AreEqual(blockRows >= 11 ? 0 : (11 + blockRows - 1) / blockRows, checks, "a check after each block of several");
    }

    [TestMethod]
    public void BoundedBlocksHoldAboutTwoThousandSquaredEntries()
    {
        Assert.AreEqual(2048, StructuredNtk.BoundedBlockRows(1000), "up to 2,048 columns: blocks of 2,048 rows");
        Assert.AreEqual(2048, StructuredNtk.BoundedBlockRows(2048));
        Assert.AreEqual(1139, StructuredNtk.BoundedBlockRows(3680), "beyond, 2048²/columns rows");
        Assert.AreEqual(419, StructuredNtk.BoundedBlockRows(10_000));
        Assert.AreEqual(256, StructuredNtk.BoundedBlockRows(100_000), "never fewer than 256 rows");
    }

    [TestMethod]
    [DataRow(1, KareActivation.Gelu, 1)]
    [DataRow(2, KareActivation.Tanh, 1)]
    [DataRow(2, KareActivation.Gelu, 3)]
    [DataRow(3, KareActivation.Relu, 3)]
    public void TransposedJacobianTimesEqualsExplicitJacobianProduct(int depth, KareActivation activation, int outputs)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(100 + 10 * depth + outputs);
        using MlpNetwork network = CreateNetwork(depth, activation, random);
        Matrix<double> x = Dense.Gaussian(8, InputCount, random, 1.5);
        Matrix<double> alpha = Dense.Gaussian(8, outputs, random);
        Matrix<double> expected = Reference.Jacobian(network, x).Transpose() * alpha; // P×c

        using (torch.no_grad())
        {
            NetworkFeatures features = network.Features(Dense.ToTensor(x));
            double[] actual = StructuredNtk.TransposedJacobianTimes(features, Dense.ToTensor(alpha));
            int p = (int)network.Architecture.ParameterCount;
            Assert.HasCount(p * outputs, actual);
            // Output k occupies [k·P, (k+1)·P): read it back column-major.
            var actualMatrix = Matrix<double>.Build.Dense(p, outputs, actual);
            Dense.AssertWithin(Dense.RelativeError(expected, actualMatrix), 1e-12, $"Jᵀα depth {depth} {activation} c={outputs}", TestContext);
            // b_out's Jacobian column is all ones: its entry is Σα exactly.
            for (int k = 0; k < outputs; k++)
                Assert.AreEqual(alpha.Column(k).Sum(), actual[(k + 1) * p - 1], 1e-12);
        }
    }

    private static MlpNetwork CreateNetwork(int depth, KareActivation activation, Random random)
    {
        var architecture = new KareNetworkArchitecture(InputCount, WidthsByDepth[depth - 1], activation);
        // Default initialisation, doubled so the pre-activations reach the nonlinear range of every activation.
        using MlpNetwork initial = MlpNetwork.Initialize(architecture, random);
        double[] theta = initial.GetParameters();
        for (int i = 0; i < theta.Length; i++)
            theta[i] *= 2;
        return MlpNetwork.FromParameters(architecture, theta);
    }
}
