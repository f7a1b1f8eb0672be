using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>Kernel ridge regression (docs/maths.md, "Kernel ridge regression") and its Cholesky factorisation against MathNet dense solves.</summary>
[TestClass]
public sealed class KernelRidgeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(10, 1, 1e-3)]
    [DataRow(25, 2, 0.1)]
    [DataRow(18, 3, 1e-6)]
    public void DualWeightsEqualDirectSolve(int n, int outputs, double relativeRidge)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(n + outputs);
        Matrix<double> kernel = Dense.RandomGram(n, 2 * n, random) * 5;
        Matrix<double> targets = Dense.Gaussian(n, outputs, random);
        double ridge = Reference.Ridge(kernel, relativeRidge);
        Matrix<double> expected = (kernel + n * ridge * Matrix<double>.Build.DenseIdentity(n)).Solve(targets);

        Tensor kernelTensor = Dense.ToTensor(kernel);
        Assert.AreEqual(ridge, RelativeRidge.ToAbsolute(relativeRidge, kernelTensor), 1e-14 * ridge, "λ = λ̃·Tr(K)/n²");
        Tensor alpha = KernelRidge.DualWeights(kernelTensor, Dense.ToTensor(targets), ridge);
        Dense.AssertWithin(Dense.RelativeError(expected, Dense.ToMatrix(alpha)), 1e-10, $"α n={n} c={outputs} λ̃={relativeRidge}", TestContext);
        // The input kernel is not modified (the shift goes into a copy).
        Dense.AssertWithin(Dense.RelativeError(kernel, Dense.ToMatrix(kernelTensor)), 0, "kernel unmodified", TestContext);
    }

    [TestMethod]
    public void CholeskyFallsBackToJitterOnSingularMatrixWithDuplicateRows()
    {
        using var scope = torch.NewDisposeScope();
        // Rank-2 PSD kernel of rows with duplicates: K = G Gᵀ, G rows (1, 1), (1, 1), (1, 2), (3, 1), (3, 1), (0, 2).
        var g = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 1 }, { 1, 1 }, { 1, 2 }, { 3, 1 }, { 3, 1 }, { 0, 2 } });
        Matrix<double> kernel = g * g.Transpose();
        Tensor kernelTensor = Dense.ToTensor(kernel);
        var (plain, info) = torch.linalg.cholesky_ex(kernelTensor);
        Assert.AreNotEqual(0, info.item<int>(), "Precondition: plain Cholesky must fail on this singular matrix.");

        Tensor factor = CholeskyFactor.Compute(kernelTensor, "a test");
        Matrix<double> l = Dense.ToMatrix(factor);
        Assert.IsTrue(l.Enumerate().All(double.IsFinite), "factor not finite");
        Assert.AreEqual(0.0, l.StrictlyUpperTriangle().Enumerate().Sum(Math.Abs), "factor not lower triangular");
        // L Lᵀ = K + jitter·I with jitter ≤ 1e-6 of the mean diagonal.
        double meanDiagonal = kernel.Diagonal().Average();
        Matrix<double> residual = l * l.Transpose() - kernel;
        double offDiagonal = (residual - Matrix<double>.Build.DenseOfDiagonalVector(residual.Diagonal())).Enumerate().Max(Math.Abs);
        Dense.AssertWithin(offDiagonal / meanDiagonal, 1e-12, "L·Lᵀ − K off the diagonal", TestContext);
        double jitter = residual.Diagonal().Average();
        TestContext.WriteLine($"jitter added: {jitter / meanDiagonal:E2} of the mean diagonal");
        Assert.IsGreaterThan(0.0, jitter, "some jitter was added");
        Assert.IsLessThanOrEqualTo(1.0000001e-6 * meanDiagonal, jitter, "jitter bounded by 1e-6 of the mean diagonal");
        Dense.AssertWithin(residual.Diagonal().Enumerate().Max(v => Math.Abs(v - jitter)) / meanDiagonal, 1e-12, "uniform jitter", TestContext);

        Tensor solution = Dense.ToTensor(Matrix<double>.Build.Dense(6, 1, 1.0)).cholesky_solve(factor);
        Assert.IsTrue(solution.isfinite().all().item<bool>(), "the solve with the jittered factor is finite");
    }

    [TestMethod]
    public void DualWeightsOnDuplicateRowsAreFiniteAndMatchDirectSolve()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(9);
        Matrix<double> unique = Dense.Gaussian(5, 3, random);
        Matrix<double> rows = Matrix<double>.Build.DenseOfRowVectors(Enumerable.Range(0, 10).Select(i => unique.Row(i % 5)));
        Matrix<double> kernel = rows * rows.Transpose(); // rank 3, 10×10
        Matrix<double> targets = Dense.Gaussian(10, 1, random);
        double ridge = Reference.Ridge(kernel, 1e-6);

        Tensor alpha = KernelRidge.DualWeights(Dense.ToTensor(kernel), Dense.ToTensor(targets), ridge);
        Matrix<double> expected = (kernel + 10 * ridge * Matrix<double>.Build.DenseIdentity(10)).Solve(targets);
        Assert.IsTrue(alpha.isfinite().all().item<bool>());
        Dense.AssertWithin(Dense.RelativeError(expected, Dense.ToMatrix(alpha)), 1e-6, "α on a rank-3 kernel, λ̃ = 1e-6", TestContext);
    }

    [TestMethod]
    public void CholeskyGivesUpOnIndefiniteAndNonFiniteMatrices()
    {
        using var scope = torch.NewDisposeScope();
        Tensor indefinite = torch.tensor(new double[] { 1, 0, 0, -1 }, new long[] { 2, 2 }, ScalarType.Float64);
        var ex = Assert.ThrowsExactly<ArithmeticException>(() => CholeskyFactor.Compute(indefinite, "the indefinite test matrix"));
        StringAssert.Contains(ex.Message, "the indefinite test matrix");

        // Indefinite beyond the jitter bound (1e-6 of the mean diagonal): an eigenvalue of −1e-5 is not papered over.
        Tensor slightlyIndefinite = torch.diag(torch.tensor(new double[] { 1, 1, -1e-5 }, ScalarType.Float64));
        Assert.ThrowsExactly<ArithmeticException>(() => CholeskyFactor.Compute(slightlyIndefinite, "the slightly indefinite test matrix"));
        // Indefinite at rounding level (−1e-13 of the diagonal) is rescued by jitter.
        Tensor roundingIndefinite = torch.diag(torch.tensor(new double[] { 1, 1, -1e-13 }, ScalarType.Float64));
        Assert.IsTrue(CholeskyFactor.Compute(roundingIndefinite, "the rounding-level test matrix").isfinite().all().item<bool>());

        Tensor nonFinite = torch.tensor(new double[] { double.NaN, 0, 0, 1 }, new long[] { 2, 2 }, ScalarType.Float64);
        Assert.ThrowsExactly<ArithmeticException>(() => CholeskyFactor.Compute(nonFinite, "the NaN test matrix"));
    }
}
