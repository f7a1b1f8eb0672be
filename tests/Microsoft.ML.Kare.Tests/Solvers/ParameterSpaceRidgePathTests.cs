using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>
/// The ridge path in parameter space (eigendecomposition of JᵀJ) against the kernel-space path (eigendecomposition of
/// K = JJᵀ): the same held-out errors and the same GCV at every λ̃, weighted held-out rows and several outputs included.
/// </summary>
[TestClass]
public sealed class ParameterSpaceRidgePathTests
{
    private static readonly double[] Grid = Dense.LogSpace(1e-6, 10, 36);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1, false, 17)]
    [DataRow(3, true, 17)]
    [DataRow(1, true, 45)] // v ≥ P and v > the grid: the parameter path forms β(λ) per ridge, the kernel path projects
    public void HeldOutErrorsAndGcvEqualTheKernelPath(int outputs, bool weighted, int v)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(41 + outputs + v);
        const int n = 50, p = 12;
        Assert.AreEqual(v == 45, EigenbasisHeldOutError.CoefficientsFirst(v, p, outputs, Grid.Length));
        Assert.IsFalse(EigenbasisHeldOutError.CoefficientsFirst(v, n, outputs, Grid.Length));
        // A rank-deficient J (two equal columns) so that JᵀJ has a zero eigenvalue, as networks' Jacobians can.
        Matrix<double> j = Dense.Gaussian(n, p, random);
        j.SetColumn(p - 1, j.Column(0));
        Matrix<double> jv = Dense.Gaussian(v, p, random);
        Matrix<double> y = Dense.Gaussian(n, outputs, random);
        Matrix<double> yv = Dense.Gaussian(v, outputs, random);
        Tensor? weights = weighted ? torch.tensor(Enumerable.Range(0, v).Select(_ => 0.3 + random.NextDouble()).ToArray(), ScalarType.Float64) : null;

        Tensor jt = Dense.ToTensor(j);
        using var kernelPath = new SpectralRidgePath(Dense.ToTensor(j * j.Transpose()), Dense.ToTensor(y));
        using var parameterPath = new ParameterSpaceRidgePath(jt.t().mm(jt), jt.t().mm(Dense.ToTensor(y)), y.FrobeniusNorm() * y.FrobeniusNorm(), n);

        double[] expected = kernelPath.ValidationError(Dense.ToTensor(jv * j.Transpose()), Dense.ToTensor(yv), weights, Grid);
        double[] actual = parameterPath.ValidationError(Dense.ToTensor(jv), Dense.ToTensor(yv), weights, Grid);
        Dense.AssertWithin(expected.Zip(actual, (e, a) => Math.Abs(e - a) / e).Max(), 1e-9, $"held-out error over the grid, c = {outputs}", TestContext);

        double[] expectedGcv = kernelPath.GeneralizedCrossValidation(Grid);
        double[] actualGcv = parameterPath.GeneralizedCrossValidation(Grid);
        Dense.AssertWithin(expectedGcv.Zip(actualGcv, (e, a) => Math.Abs(e - a) / e).Max(), 1e-9, $"GCV over the grid, c = {outputs}", TestContext);
        Assert.AreEqual(kernelPath.AbsoluteRidge(0.01), parameterPath.AbsoluteRidge(0.01), 1e-14 * kernelPath.AbsoluteRidge(0.01));
    }
}
