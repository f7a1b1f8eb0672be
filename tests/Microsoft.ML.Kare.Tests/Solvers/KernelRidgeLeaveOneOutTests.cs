using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>The closed-form leave-one-out predictions of weighted kernel ridge regression against refitting without each row.</summary>
[TestClass]
public sealed class KernelRidgeLeaveOneOutTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(12, 1, 1e-3, false)]
    [DataRow(15, 3, 0.1, true)]
    public void PredictionsEqualRefitsWithoutEachRow(int n, int outputs, double relativeRidge, bool weighted)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(n * 7 + outputs);
        Matrix<double> kernel = Dense.RandomGram(n, 2 * n, random);
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        double[] weights = Enumerable.Range(0, n).Select(i => weighted ? (i == 3 ? 0.0 : 0.2 + 2 * random.NextDouble()) : 1.0).ToArray();
        Vector<double> scales = Vector<double>.Build.Dense(weights.Select(Math.Sqrt).ToArray());
        Matrix<double> weightedKernel = Matrix<double>.Build.DiagonalOfDiagonalVector(scales) * kernel * Matrix<double>.Build.DiagonalOfDiagonalVector(scales);
        Matrix<double> weightedTargets = Matrix<double>.Build.DiagonalOfDiagonalVector(scales) * targets;
        double ridge = Reference.Ridge(weightedKernel, relativeRidge);

        var (_, actual) = KernelRidge.DualWeightsAndLeaveOneOut(Dense.ToTensor(weightedKernel), Dense.ToTensor(targets), Dense.ToTensor(weightedTargets),
            weighted ? torch.tensor(weights, ScalarType.Float64) : null, ridge, static () => { });
        Matrix<double> loo = Dense.ToMatrix(actual);

        for (int i = 0; i < n; i++)
        {
            if (weights[i] == 0)
            {
                Assert.IsTrue(Enumerable.Range(0, outputs).All(k => double.IsNaN(loo[i, k])), $"row {i} has weight 0");
                continue;
            }
            int[] rest = Enumerable.Range(0, n).Where(j => j != i).ToArray();
            Matrix<double> reduced = Matrix<double>.Build.Dense(n - 1, n - 1, (a, b) => weightedKernel[rest[a], rest[b]]);
            Matrix<double> reducedTargets = Matrix<double>.Build.Dense(n - 1, outputs, (a, k) => weightedTargets[rest[a], k]);
            Matrix<double> alpha = (reduced + n * ridge * Matrix<double>.Build.DenseIdentity(n - 1)).Solve(reducedTargets);
            for (int k = 0; k < outputs; k++)
            {
                // f_i = K(x_i, X₋ᵢ) S α = (K_w row i)·α / s_i
                double expected = rest.Select((j, a) => weightedKernel[i, j] * alpha[a, k]).Sum() / scales[i];
                Assert.AreEqual(expected, loo[i, k], 1e-8 * Math.Max(1, Math.Abs(expected)), $"row {i}, output {k}");
            }
        }
    }
}
