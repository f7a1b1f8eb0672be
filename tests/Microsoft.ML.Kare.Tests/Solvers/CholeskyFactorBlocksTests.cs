using System;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>
/// <see cref="CholeskyFactor.TryFactorInBlocks"/> against MathNet's Cholesky factor of the same matrix (blocks that
/// divide n, that do not, of one row and wider than n), its cancellation checks, and its refusal of a matrix that is not
/// positive definite.
/// </summary>
[TestClass]
public sealed class CholeskyFactorBlocksTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(16)]
    [DataRow(45)]
    [DataRow(64)]
    public void TheFactorInBlocksIsTheCholeskyFactorAndChecksAfterEveryPiece(int blockRows)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(blockRows);
        const int n = 48;
        Matrix<double> matrix = Dense.LowRankPlusRidge(n, 6, 1e-3, random);
        Matrix<double> expected = matrix.Cholesky().Factor;

        int checks = 0;
        Tensor factor = CholeskyFactor.TryFactorInBlocks(Dense.ToTensor(matrix), () => checks++, blockRows)!;

        Dense.AssertWithin(Dense.RelativeError(expected, Dense.ToMatrix(factor)), 1e-10, $"L, blocks of {blockRows} rows", TestContext);
        int blocks = (n + blockRows - 1) / blockRows;
        Assert.AreEqual(2 * blocks + blocks * (blocks - 1) / 2, checks, "a check after copying each block row, each diagonal block and each trailing block row");
    }

    [TestMethod]
    public void AMatrixIndefiniteOnlyAfterTheFirstTrailingUpdateHasNoFactor()
    {
        using var scope = torch.NewDisposeScope();
        // [[I, 2I], [2I, I]]: the first block is the identity; its Schur complement I − 4I is negative definite, so
        // the second diagonal block fails only after the trailing update.
        const int half = 8;
        Matrix<double> identity = Matrix<double>.Build.DenseIdentity(half);
        Matrix<double> matrix = Matrix<double>.Build.DenseOfMatrixArray(new[,] { { identity, 2 * identity }, { 2 * identity, identity } });
        int checks = 0;
        Assert.IsNull(CholeskyFactor.TryFactorInBlocks(Dense.ToTensor(matrix), () => checks++, half));
        Assert.AreEqual(4, checks, "the copy of both block rows, the first block and its trailing update were done");
    }

    [TestMethod]
    public void TheFactorIsOneCallUpToTheLimitAndBlocksBeyondIt()
    {
        using var scope = torch.NewDisposeScope();
        int checks = 0;
        int limit = CholeskyFactor.SingleCallMaximumRows;
        Tensor atLimit = CholeskyFactor.TryFactor(torch.eye(limit, dtype: ScalarType.Float64) * 4.0, () => checks++)!;
        Assert.AreEqual(0, checks, "one call up to the limit");
        Assert.AreEqual(2.0, atLimit[limit - 1, limit - 1].item<double>(), 1e-15);
        atLimit.Dispose();

        Tensor beyond = CholeskyFactor.TryFactor(torch.eye(limit + 1, dtype: ScalarType.Float64) * 4.0, () => checks++)!;
        int blocks = (limit + 1 + CholeskyFactor.FactorBlockRows - 1) / CholeskyFactor.FactorBlockRows;
        Assert.AreEqual(2 * blocks + blocks * (blocks - 1) / 2, checks, "blocks, each followed by a check, beyond the limit");
        Assert.AreEqual(2.0, beyond[limit, limit].item<double>(), 1e-15);
        Assert.IsNull(CholeskyFactor.TryFactor(torch.eye(3, dtype: ScalarType.Float64).neg(), static () => { }), "no factor without checks either");
    }

    [TestMethod]
    public void ACancellationDuringTheCopyStopsBeforeAnyFactorisation()
    {
        using var scope = torch.NewDisposeScope();
        Tensor matrix = torch.eye(40, dtype: ScalarType.Float64) * 2.0;
        int checks = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() => CholeskyFactor.TryFactorInBlocks(matrix, () =>
        {
            if (++checks == 2)
                throw new OperationCanceledException();
        }, 10));
        Assert.AreEqual(2, checks, "cancelled after copying the second of 4 block rows");
        Assert.IsTrue(matrix.equal(torch.eye(40, dtype: ScalarType.Float64) * 2.0).all().item<bool>(), "the input is untouched");
    }

    [TestMethod]
    public void ACancellationStopsTheFactorisationAtItsCheck()
    {
        using var scope = torch.NewDisposeScope();
        Tensor matrix = torch.eye(40, dtype: ScalarType.Float64);
        int checks = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() => CholeskyFactor.TryFactorInBlocks(matrix, () =>
        {
            if (++checks == 6)
                throw new OperationCanceledException();
        }, 10));
        Assert.AreEqual(6, checks, "after the copy of the 4 block rows, the first diagonal block and one trailing block row");
    }
}
