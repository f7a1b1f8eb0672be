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
        Matrix<double> g = Dense.Gaussian(n, 6, random);
        Matrix<double> matrix = g * g.Transpose() + 1e-3 * Matrix<double>.Build.DenseIdentity(n);
        Matrix<double> expected = matrix.Cholesky().Factor;

        int checks = 0;
        Tensor factor = CholeskyFactor.TryFactorInBlocks(Dense.ToTensor(matrix), () => checks++, blockRows)!;

        Dense.AssertWithin(Dense.RelativeError(expected, Dense.ToMatrix(factor)), 1e-10, $"L, blocks of {blockRows} rows", TestContext);
        int blocks = (n + blockRows - 1) / blockRows;
        Assert.AreEqual(blocks + blocks * (blocks - 1) / 2, checks, "a check after each diagonal block and each trailing block row");
    }

    [TestMethod]
    public void AMatrixThatIsNotPositiveDefiniteHasNoFactor()
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(3);
        Matrix<double> g = Dense.Gaussian(20, 20, random);
        Matrix<double> indefinite = g * g.Transpose() - 5 * Matrix<double>.Build.DenseIdentity(20) * (g * g.Transpose()).Diagonal().Minimum();
        indefinite[15, 15] = -1; // a negative pivot in the second block at the latest
        Assert.IsNull(CholeskyFactor.TryFactorInBlocks(Dense.ToTensor(indefinite), static () => { }, 8));
    }

    [TestMethod]
    public void UpToTheSingleCallLimitTheFactorIsOneCallWithoutChecks()
    {
        using var scope = torch.NewDisposeScope();
        Tensor matrix = torch.eye(10, dtype: ScalarType.Float64) * 4.0;
        int checks = 0;
        Tensor factor = CholeskyFactor.TryFactor(matrix, () => checks++)!;
        Assert.AreEqual(0, checks);
        Assert.AreEqual(2.0, factor[3, 3].item<double>(), 1e-15);
    }

    [TestMethod]
    public void ACancellationStopsTheFactorisationAtItsCheck()
    {
        using var scope = torch.NewDisposeScope();
        Tensor matrix = torch.eye(40, dtype: ScalarType.Float64);
        int checks = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() => CholeskyFactor.TryFactorInBlocks(matrix, () =>
        {
            if (++checks == 3)
                throw new OperationCanceledException();
        }, 10));
        Assert.AreEqual(3, checks);
    }
}
