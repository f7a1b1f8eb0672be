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
/// <see cref="CholeskyFactor.InverseTrace"/> (Tr((LLᵀ)⁻¹) from column blocks of L⁻¹) and
/// <see cref="CholeskyFactor.InverseDiagonal"/> (the diagonal of (LLᵀ)⁻¹ from the same blocks) against MathNet's
/// explicit inverse of the same matrix, for blocks that divide n, that do not, of one column and wider than n.
/// </summary>
[TestClass]
public sealed class CholeskyFactorInverseTraceTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(16)]
    [DataRow(45)]
    [DataRow(256)]
    public void InverseTraceMatchesTheTraceOfTheExplicitInverse(int blockColumns)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(blockColumns);
        const int n = 48;
        // An ill-conditioned kernel-like matrix: a rank-6 Gram matrix plus a small ridge, so that Tr(S⁻¹) is dominated
        // by the ridge directions and rounding in a wrong block would show.
        Matrix<double> matrix = Dense.LowRankPlusRidge(n, 6, 1e-3, random);
        double expected = matrix.Inverse().Trace();

        Tensor factor = CholeskyFactor.Compute(Dense.ToTensor(matrix), "the test matrix");
        double actual = CholeskyFactor.InverseTrace(factor, blockColumns);

        Assert.AreEqual(expected, actual, 1e-10 * expected, $"blocks of {blockColumns} columns");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(16)]
    [DataRow(45)]
    [DataRow(256)]
    public void InverseDiagonalMatchesTheDiagonalOfTheExplicitInverseAndChecksAfterEveryBlock(int blockColumns)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(100 + blockColumns);
        const int n = 48;
        Matrix<double> matrix = Dense.LowRankPlusRidge(n, 6, 1e-3, random);
        double[] expected = matrix.Inverse().Diagonal().ToArray();

        Tensor factor = CholeskyFactor.Compute(Dense.ToTensor(matrix), "the test matrix");
        int checks = 0;
        double[] actual = CholeskyFactor.InverseDiagonal(factor, () => checks++, blockColumns).data<double>().ToArray();

        Dense.AssertWithin(Dense.RelativeError(expected, actual), 1e-10, $"diag(S⁻¹), blocks of {blockColumns} columns");
        Assert.AreEqual((n + blockColumns - 1) / blockColumns, checks, "one check after each block");
    }

    [TestMethod]
    [DataRow(16, 1)]
    [DataRow(16, 7)]
    [DataRow(7, 16)]
    [DataRow(45, 10)]
    [DataRow(256, 48)]
    [DataRow(5, 100)]
    public void InverseDiagonalByBlocksOfRowsMatchesTheExplicitInverseAndTheOneSolvePath(int blockColumns, int blockRows)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(200 + blockColumns + blockRows);
        const int n = 48;
        Matrix<double> matrix = Dense.LowRankPlusRidge(n, 6, 1e-3, random);
        double[] expected = matrix.Inverse().Diagonal().ToArray();
        Tensor factor = CholeskyFactor.Compute(Dense.ToTensor(matrix), "the test matrix");

        int checks = 0;
        double[] actual = CholeskyFactor.InverseDiagonal(factor, () => checks++, blockColumns, blockRows).data<double>().ToArray();
        double[] oneSolve = CholeskyFactor.InverseDiagonal(factor, static () => { }, blockColumns).data<double>().ToArray();

        Dense.AssertWithin(Dense.RelativeError(expected, actual), 1e-10, $"diag(S⁻¹), blocks of {blockColumns} columns and {blockRows} rows");
        Dense.AssertWithin(Dense.RelativeError(oneSolve, actual), 1e-12, "against one triangular solve per column block");
        int expectedChecks = 0;
        for (int start = 0; start < n; start += blockColumns)
            expectedChecks += (n - start + blockRows - 1) / blockRows + 1;
        Assert.AreEqual(expectedChecks, checks, "a check after each block row of each column block, and after each column block");
    }

    [TestMethod]
    public void AboveTheRowBlockLimitTheTraceAndDiagonalMatchASingleSolvePerColumnBlock()
    {
        using var scope = torch.NewDisposeScope();
        int n = CholeskyFactor.RowBlockedInverseMinimumRows + 60;
        Tensor x = torch.randn(n, 200, dtype: ScalarType.Float64, generator: new torch.Generator(11));
        Tensor factor = CholeskyFactor.Compute(x.mm(x.t()).add_(torch.eye(n, dtype: ScalarType.Float64)), "the test matrix");
        double[] oneSolve = CholeskyFactor.InverseDiagonal(factor, static () => { }, CholeskyFactor.InverseTraceBlockColumns, int.MaxValue).data<double>().ToArray();

        int checks = 0;
        double[] byRows = CholeskyFactor.InverseDiagonal(factor, () => checks++).data<double>().ToArray();
        double trace = CholeskyFactor.InverseTrace(factor);

        Dense.AssertWithin(Dense.RelativeError(oneSolve, byRows), 1e-12, "diagonal by blocks of rows");
        Dense.AssertWithin(Math.Abs(trace - oneSolve.Sum()) / oneSolve.Sum(), 1e-12, "trace by blocks of rows");
        int columnBlocks = (n + CholeskyFactor.InverseTraceBlockColumns - 1) / CholeskyFactor.InverseTraceBlockColumns;
        Assert.IsGreaterThan(columnBlocks, checks, "checks inside the column blocks too");
    }

    [TestMethod]
    public void AtTheRowBlockLimitEachColumnBlockIsStillOneSolve()
    {
        using var scope = torch.NewDisposeScope();
        int n = CholeskyFactor.RowBlockedInverseMinimumRows;
        Tensor factor = torch.eye(n, dtype: ScalarType.Float64) * 2.0;
        int checks = 0;
        Tensor diagonal = CholeskyFactor.InverseDiagonal(factor, () => checks++);
        Assert.AreEqual(n / CholeskyFactor.InverseTraceBlockColumns, checks, "one check per column block: no row pieces at the limit");
        Assert.IsTrue(diagonal.equal(torch.full(n, 0.25, dtype: ScalarType.Float64)).all().item<bool>(), "diag((2I)⁻²) = 1/4");
    }

    [TestMethod]
    public void BlockColumnsMustBePositive()
    {
        using var scope = torch.NewDisposeScope();
        Tensor factor = torch.eye(3, dtype: ScalarType.Float64);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CholeskyFactor.InverseTrace(factor, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CholeskyFactor.InverseDiagonal(factor, static () => { }, 0));
    }
}
