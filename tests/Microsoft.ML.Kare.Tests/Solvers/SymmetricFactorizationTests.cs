using System.Collections.Generic;
using System.Linq;
using System;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>
/// <see cref="SymmetricFactorization"/> (Cholesky, with an eigendecomposition fallback for numerically indefinite
/// matrices) and <see cref="CholeskyFactor.Compute"/> (jitter fallback) against MathNet dense references, and the
/// warnings both report through <see cref="NumericalWarnings"/>.
/// </summary>
[TestClass]
public sealed class SymmetricFactorizationTests
{
    private const string Purpose = "the test matrix";

    public TestContext TestContext { get; set; } = null!;

    /// <summary>A well-conditioned symmetric positive definite n×n matrix: a full-rank Gram matrix plus a ridge.</summary>
    private static Matrix<double> PositiveDefinite(int n, Random random)
        => Dense.RandomGram(n, 2 * n, random) + 0.1 * Matrix<double>.Build.DenseIdentity(n);

    /// <summary>
    /// A rank-3 Gram matrix G Gᵀ (n×n) shifted by −1e-10·I: its null space has eigenvalue −1e-10, so it is numerically
    /// indefinite (Cholesky fails) while its range is well conditioned.
    /// </summary>
    private static (Matrix<double> Matrix, Matrix<double> Factor) Indefinite(int n, Random random)
    {
        Matrix<double> g = Dense.Gaussian(n, 3, random);
        return (g * g.Transpose() - 1e-10 * Matrix<double>.Build.DenseIdentity(n), g);
    }

    [TestMethod]
    public void CholeskyPathSolvesLikeADirectSolveAndReportsNothing()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(3);
        Matrix<double> matrix = PositiveDefinite(12, random);
        Matrix<double> rightHandSides = Dense.Gaussian(12, 3, random);
        var warnings = new List<string>();
        Tensor matrixTensor = Dense.ToTensor(matrix);
        using (NumericalWarnings.RouteTo(warnings.Add))
        {
            using var factorization = SymmetricFactorization.Factor(matrixTensor, Purpose);
            Assert.IsFalse(factorization.IsEigenFallback);
            Matrix<double> solution = Dense.ToMatrix(factorization.Solve(Dense.ToTensor(rightHandSides)));
            Dense.AssertWithin(Dense.RelativeError(matrix.Solve(rightHandSides), solution), 1e-12, "G⁻¹B", TestContext);
        }
        Assert.IsEmpty(warnings);
        Dense.AssertWithin(Dense.RelativeError(matrix, Dense.ToMatrix(matrixTensor)), 0, "G unmodified", TestContext);
    }

    [TestMethod]
    public void CholeskyPathInverseDiagonalAndQuadraticFormsMatchTheExplicitInverse()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(5);
        Matrix<double> matrix = PositiveDefinite(10, random);
        Matrix<double> rows = Dense.Gaussian(4, 10, random);
        Matrix<double> inverse = matrix.Inverse();
        using var factorization = SymmetricFactorization.Factor(Dense.ToTensor(matrix), Purpose);
        Assert.IsFalse(factorization.IsEigenFallback);
        AssertInverseDiagonalAndQuadraticForms(factorization, inverse, rows, 1e-12, "Cholesky");
    }

    [TestMethod]
    public void NumericallyIndefiniteMatrixTakesTheEigenFallbackAndReportsOneWarning()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(7);
        const int N = 9;
        var (matrix, g) = Indefinite(N, random);
        Tensor matrixTensor = Dense.ToTensor(matrix);
        var (_, info) = torch.linalg.cholesky_ex(matrixTensor);
        Assert.AreNotEqual(0, info.item<int>(), "Precondition: Cholesky must fail on this matrix.");

        // Right-hand sides in the range of G Gᵀ: the pseudo-inverse solves them on the well-conditioned part.
        Matrix<double> rightHandSides = g * Dense.Gaussian(3, 2, random);
        Evd<double> evd = matrix.Evd(Symmetricity.Symmetric);
        double largest = evd.EigenValues.Real().Maximum();
        int[] range = Enumerable.Range(0, N).Where(i => evd.EigenValues[i].Real > 1e-6 * largest).ToArray();
        Assert.HasCount(3, range, "rank 3");
        Matrix<double> basis = Matrix<double>.Build.DenseOfColumnVectors(range.Select(i => evd.EigenVectors.Column(i)));
        Matrix<double> pseudoInverse = basis * Matrix<double>.Build.DenseOfDiagonalArray(range.Select(i => 1 / evd.EigenValues[i].Real).ToArray()) * basis.Transpose();
        Matrix<double> expected = pseudoInverse * rightHandSides;

        var warnings = new List<string>();
        using (NumericalWarnings.RouteTo(warnings.Add))
        {
            using var factorization = SymmetricFactorization.Factor(matrixTensor, Purpose);
            Assert.IsTrue(factorization.IsEigenFallback);
            Matrix<double> solution = Dense.ToMatrix(factorization.Solve(Dense.ToTensor(rightHandSides)));
            Assert.IsTrue(solution.Enumerate().All(double.IsFinite), "the solve is finite");
            Matrix<double> wellConditionedPart = basis * (basis.Transpose() * solution);
            Dense.AssertWithin(Dense.RelativeError(expected, wellConditionedPart), 1e-9, "G⁺B on the range of G", TestContext);
        }
        Assert.HasCount(1, warnings);
        StringAssert.Contains(warnings[0], Purpose);
        StringAssert.Contains(warnings[0], "eigendecomposition");
        Dense.AssertWithin(Dense.RelativeError(matrix, Dense.ToMatrix(matrixTensor)), 0, "G unmodified", TestContext);
    }

    [TestMethod]
    public void EachDistinctWarningIsReportedOncePerRouteAndDroppedWithoutOne()
    {
        using var scope = torch.NewDisposeScope();
        Tensor matrix = Dense.ToTensor(Indefinite(6, new Random(11)).Matrix);
        var first = new List<string>();
        using (NumericalWarnings.RouteTo(first.Add))
        {
            SymmetricFactorization.Factor(matrix, Purpose).Dispose();
            SymmetricFactorization.Factor(matrix, Purpose).Dispose();
            Assert.HasCount(1, first, "the same fallback twice: one warning");
            SymmetricFactorization.Factor(matrix, "another matrix").Dispose();
            Assert.HasCount(2, first, "another purpose is another message");
        }
        var second = new List<string>();
        using (NumericalWarnings.RouteTo(second.Add))
            SymmetricFactorization.Factor(matrix, Purpose).Dispose();
        Assert.HasCount(1, second, "a new route reports again");
        using (SymmetricFactorization factorization = SymmetricFactorization.Factor(matrix, Purpose))
            Assert.IsTrue(factorization.IsEigenFallback, "without a route the fallback is still taken (its warning is dropped)");
        Assert.HasCount(2, first);
        Assert.HasCount(1, second);
    }

    [TestMethod]
    public void EigenFallbackInverseDiagonalAndQuadraticFormsMatchTheExplicitFlooredInverse()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(13);
        const int N = 8;
        Matrix<double> matrix = Indefinite(N, random).Matrix;
        Matrix<double> rows = Dense.Gaussian(5, N, random);
        // The fallback's inverse: V diag(1/max(s, floor)) Vᵀ with floor = RelativeEigenvalueFloor · max s. The null space's
        // eigenvalues (−1e-10) are all floored, so this inverse does not depend on the basis chosen for that space.
        Evd<double> evd = matrix.Evd(Symmetricity.Symmetric);
        Vector<double> values = evd.EigenValues.Real();
        double floor = SymmetricFactorization.RelativeEigenvalueFloor * values.Maximum();
        Matrix<double> inverse = evd.EigenVectors * Matrix<double>.Build.DenseOfDiagonalVector(values.Map(s => 1 / Math.Max(s, floor))) * evd.EigenVectors.Transpose();

        using var factorization = SymmetricFactorization.Factor(Dense.ToTensor(matrix), Purpose);
        Assert.IsTrue(factorization.IsEigenFallback);
        AssertInverseDiagonalAndQuadraticForms(factorization, inverse, rows, 1e-8, "eigen fallback");
    }

    [TestMethod]
    public void CholeskyFactorReportsItsJitter()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(17);
        // Rank 3 minus 1e-13 of the mean diagonal: indefinite, and positive definite again with 1e-12 of it added.
        Matrix<double> g = Dense.Gaussian(8, 3, random);
        Matrix<double> gram = g * g.Transpose();
        double meanDiagonal = gram.Diagonal().Average();
        Matrix<double> matrix = gram - 1e-13 * meanDiagonal * Matrix<double>.Build.DenseIdentity(8);

        var warnings = new List<string>();
        Matrix<double> factor;
        using (NumericalWarnings.RouteTo(warnings.Add))
            factor = Dense.ToMatrix(CholeskyFactor.Compute(Dense.ToTensor(matrix), Purpose));
        Assert.HasCount(1, warnings);
        StringAssert.Contains(warnings[0], Purpose);
        StringAssert.Contains(warnings[0], "1E-12 of its mean diagonal added");
        Matrix<double> shifted = matrix + 1e-12 * matrix.Diagonal().Average() * Matrix<double>.Build.DenseIdentity(8);
        Dense.AssertWithin((factor * factor.Transpose() - shifted).Enumerate().Max(Math.Abs) / meanDiagonal, 1e-14, "L·Lᵀ − (G + jitter·I)", TestContext);

        // A positive definite matrix is factored as it is, without a warning.
        var none = new List<string>();
        using (NumericalWarnings.RouteTo(none.Add))
        {
            Matrix<double> spd = PositiveDefinite(8, random);
            Matrix<double> l = Dense.ToMatrix(CholeskyFactor.Compute(Dense.ToTensor(spd), Purpose));
            Dense.AssertWithin(Dense.RelativeError(spd, l * l.Transpose()), 1e-14, "L·Lᵀ = G", TestContext);
        }
        Assert.IsEmpty(none);
    }

    [TestMethod]
    public void CholeskyFactorGivesUpOnAClearlyIndefiniteMatrix()
    {
        using var scope = torch.NewDisposeScope();
        var matrix = Matrix<double>.Build.DenseOfDiagonalArray(new[] { 1.0, 2.0, -0.5 });
        var warnings = new List<string>();
        using (NumericalWarnings.RouteTo(warnings.Add))
        {
            var error = Assert.ThrowsExactly<ArithmeticException>(() => CholeskyFactor.Compute(Dense.ToTensor(matrix), Purpose));
            StringAssert.Contains(error.Message, Purpose);
        }
        Assert.IsEmpty(warnings, "no jitter was used");
    }

    private void AssertInverseDiagonalAndQuadraticForms(SymmetricFactorization factorization, Matrix<double> inverse, Matrix<double> rows, double tolerance, string path)
    {
        Matrix<double> diagonal = Dense.ToMatrix(factorization.InverseDiagonal(static () => { }));
        Dense.AssertWithin(Dense.RelativeError(inverse.Diagonal().ToArray(), diagonal.Column(0).ToArray()), tolerance, $"diag(G⁻¹), {path}", TestContext);
        Matrix<double> forms = Dense.ToMatrix(factorization.QuadraticForms(Dense.ToTensor(rows)));
        Dense.AssertWithin(Dense.RelativeError((rows * inverse * rows.Transpose()).Diagonal().ToArray(), forms.Column(0).ToArray()), tolerance,
            $"bᵢᵀG⁻¹bᵢ, {path}", TestContext);
    }
}
