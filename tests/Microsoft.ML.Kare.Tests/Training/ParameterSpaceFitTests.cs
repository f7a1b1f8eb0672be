using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// The final fit in parameter space, (JᵀS²J + nλI)β = JᵀS²Y (used when n×n does not fit), against the kernel-space fit
/// β = Jᵀ S (K_w + nλI)⁻¹ Y_w on the same trained network.
/// </summary>
[TestClass]
public sealed class ParameterSpaceFitTests
{
    [TestMethod]
    [DataRow(KareActivation.Gelu, 1)]
    [DataRow(KareActivation.Relu, 1)]
    [DataRow(KareActivation.Tanh, 2)]
    public void JacobianRowsEqualAutogradJacobian(KareActivation activation, int depth)
    {
        var random = new Random(21);
        var architecture = new KareNetworkArchitecture(3, Enumerable.Repeat(5, depth).ToArray(), activation);
        using var network = MlpNetwork.Initialize(architecture, random);
        Matrix<double> inputs = Dense.Gaussian(7, 3, random);
        Matrix<double> expected = Reference.Jacobian(network, inputs);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Matrix<double> actual = Dense.ToMatrix(StructuredNtk.JacobianRows(network.Features(Dense.ToTensor(inputs))));
        Dense.AssertWithin(Dense.RelativeError(expected, actual), 1e-13, "J rows");
    }

    [TestMethod]
    [DataRow(false, 1)]
    [DataRow(true, 1)]
    [DataRow(true, 3)]
    public void ParameterSpaceFitEqualsKernelSpaceFit(bool weighted, int outputs)
    {
        const int n = 90, d = 3;
        var random = new Random(outputs * 10 + (weighted ? 1 : 0));
        double[] features = Enumerable.Range(0, n * d).Select(_ => random.NextDouble() * 4 - 2).ToArray();
        double[] targets = Enumerable.Range(0, n * outputs).Select(i => Math.Sin(features[i / outputs * d] + i % outputs) + 0.1 * random.NextDouble()).ToArray();
        double[]? weights = weighted ? Enumerable.Range(0, n).Select(i => i % 7 == 0 ? 0.0 : 0.5 + random.NextDouble()).ToArray() : null;
        var data = new KareTrainingData(features, n, d, targets, outputs, weights);
        var kernelSpace = new KareFitSettings
        {
            HiddenWidths = new[] { 6 },
            Epochs = 3,
            RelativeRidgeGrid = Dense.LogSpace(1e-4, 1, 9),
            Seed = 5,
            ComputeLeaveOneOutPredictions = true,
        };
        var parameterSpace = kernelSpace with { MaximumKernelRows = 50 };

        var monitor = new RecordingMonitor();
        KareFitResult expected = KareFitter.Fit(data, kernelSpace, new RecordingMonitor());
        KareFitResult actual = KareFitter.Fit(data, parameterSpace, monitor);

        Assert.IsTrue(monitor.Messages.Any(m => m.Contains("parameter space", StringComparison.Ordinal)), "the log names the path taken");
        CollectionAssert.AreEqual(expected.Parameters, actual.Parameters, "same training");
        Assert.AreEqual(expected.RelativeRidge, actual.RelativeRidge);
        Assert.AreEqual(expected.Ridge, actual.Ridge, 1e-12 * expected.Ridge);
        Dense.AssertWithin(Dense.RelativeError(expected.PrimalWeights, actual.PrimalWeights), 1e-8, "β");
        double[] expectedLoo = expected.LeaveOneOutPredictions!.Where(double.IsFinite).ToArray();
        double[] actualLoo = actual.LeaveOneOutPredictions!.Where(double.IsFinite).ToArray();
        Assert.HasCount(expectedLoo.Length, actualLoo);
        Dense.AssertWithin(Dense.RelativeError(expectedLoo, actualLoo), 1e-7, "leave-one-out predictions");
    }

    [TestMethod]
    [DataRow(KareRidgeSelection.HoldOut, "parameter space")]
    [DataRow(KareRidgeSelection.GeneralizedCrossValidation, "kernel space")]
    public void ManyRowsAndFewParametersUseParameterSpaceUnlessGcvNeedsTheKernel(KareRidgeSelection selection, string expectedPath)
    {
        const int n = 4200, d = 2;
        var random = new Random(3);
        double[] features = Enumerable.Range(0, n * d).Select(_ => random.NextDouble()).ToArray();
        double[] targets = Enumerable.Range(0, n).Select(i => Math.Sin(3 * features[i * d]) + features[i * d + 1]).ToArray();
        var settings = new KareFitSettings
        {
            HiddenWidths = new[] { 4 },
            Epochs = 0,
            RelativeRidgeGrid = new[] { 1e-3, 1e-1 },
            RidgeSelection = selection,
        };
        var monitor = new RecordingMonitor();
        KareFitResult result = KareFitter.Fit(new KareTrainingData(features, n, d, targets, 1, null), settings, monitor);
        Assert.IsTrue(monitor.Messages.Any(m => m.Contains(expectedPath, StringComparison.Ordinal)), string.Join(" | ", monitor.Messages));
        Assert.IsTrue(result.PrimalWeights.All(double.IsFinite));
    }
}
