using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary>
/// <see cref="SymmetricEigendecomposition"/> through <see cref="CancellableNativeCall"/>: the same decomposition as the
/// direct call (and as MathNet's), its tensors in the caller's dispose scope, a cancellation that returns while the call
/// still runs, a failure of the call reaching the caller as itself, and the next fit waiting for a call left behind.
/// </summary>
[TestClass]
public sealed class SymmetricEigendecompositionTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ThroughTheWorkerTheDecompositionIsTheDirectOneAndMathNets()
    {
        using var scope = torch.NewDisposeScope();
        Matrix<double> matrix = Dense.LowRankPlusRidge(120, 30, 1e-2, new Random(3));
        Tensor input = Dense.ToTensor(matrix);
        var (directValues, directVectors) = torch.linalg.eigh(input);

        int checks = 0;
        var (values, vectors) = SymmetricEigendecomposition.Compute(input, () => checks++, directMaximumRows: 0);

        Assert.IsTrue(values.equal(directValues).all().item<bool>() && vectors.equal(directVectors).all().item<bool>(), "bit for bit the direct call's values and vectors");
        Assert.IsGreaterThanOrEqualTo(1, checks, "checked before the call");
        double[] expected = matrix.Evd(Symmetricity.Symmetric).EigenValues.Select(v => v.Real).OrderBy(v => v).ToArray();
        Dense.AssertWithin(Dense.RelativeError(expected, values.data<double>().ToArray()), 1e-10, "eigenvalues against MathNet", TestContext);
        Matrix<double> v = Dense.ToMatrix(vectors);
        Matrix<double> rebuilt = v * Matrix<double>.Build.DenseOfDiagonalArray(values.data<double>().ToArray()) * v.Transpose();
        Dense.AssertWithin(Dense.RelativeError(matrix, rebuilt), 1e-10, "V diag(s) Vᵀ = A", TestContext);
        Assert.IsTrue(input.equal(Dense.ToTensor(matrix)).all().item<bool>(), "the input is not modified");
    }

    [TestMethod]
    public void TheResultsBelongToTheCallersDisposeScope()
    {
        Tensor input = Dense.ToTensor(Dense.RandomGram(40, 40, new Random(5)));
        Tensor values, vectors;
        using (torch.NewDisposeScope())
            (values, vectors) = SymmetricEigendecomposition.Compute(input, () => { }, directMaximumRows: 0);
        Assert.IsTrue(values.IsInvalid && vectors.IsInvalid, "disposed with the caller's scope");
        Assert.IsFalse(input.IsInvalid, "the worker's own handle left the caller's input alone");
        input.Dispose();
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void ACancelledCallReturnsWhileTheDecompositionRunsAndTheNextFitWaitsForIt()
    {
        const int n = 2000; // an eigendecomposition of seconds on 2 cores
        Tensor input = LargeGram(n);
        int checks = 0;
        var clock = new Stopwatch();
        bool leftBehindRunning;
        using (TorchRuntime.BeginFit(0, () => { }))
        {
            clock.Start();
            Assert.ThrowsExactly<OperationCanceledException>(() => SymmetricEigendecomposition.Compute(input, () =>
            {
                if (++checks > 1)
                    throw new OperationCanceledException("cancelled in the test");
            }));
            clock.Stop();
            leftBehindRunning = !CancellableNativeCall.Pending.IsCompleted;
            input.Dispose(); // the worker holds its own handle
        }
        TestContext.WriteLine($"returned {clock.Elapsed.TotalSeconds:F3} s after the call started, after {checks} checks");
        Assert.IsTrue(leftBehindRunning, "the decomposition was still running when the caller returned");
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(0.5), $"returned after {clock.Elapsed.TotalSeconds:F3} s");

        var messages = new List<string>();
        using (TorchRuntime.BeginFit(0, () => { }, messages.Add))
        {
            Assert.IsTrue(CancellableNativeCall.Pending.IsCompleted, "the next fit starts only once the call left behind has ended");
        }
        Assert.IsTrue(messages.Any(m => m.Contains("waits", StringComparison.Ordinal)), "the next fit said it waits: " + string.Join(" | ", messages));
    }

    [TestMethod]
    public void ACancellationBeforeTheCallStartsLeavesNothingBehind()
    {
        using var scope = torch.NewDisposeScope();
        Tensor input = Dense.ToTensor(Dense.RandomGram(30, 30, new Random(9)));
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            SymmetricEigendecomposition.Compute(input, () => throw new OperationCanceledException("already cancelled"), directMaximumRows: 0));
        Assert.IsTrue(CancellableNativeCall.Pending.IsCompleted);
    }

    [TestMethod]
    public void AFailureOfTheCallReachesTheCallerAsItself()
    {
        using var scope = torch.NewDisposeScope();
        Tensor input = torch.eye(4, dtype: ScalarType.Float64);
        var error = Assert.ThrowsExactly<ArithmeticException>(() =>
            CancellableNativeCall.Run(input, _ => throw new ArithmeticException("the call failed"), () => { }));
        Assert.AreEqual("the call failed", error.Message);
        Assert.IsFalse(input.IsInvalid);
    }

    [TestMethod]
    public void ParameterSpaceBlocksShrinkAboveTheBoundedParameterCount()
    {
        Assert.AreEqual(1024, ParameterSpaceFinalFit.BlockRows(100));
        Assert.AreEqual(1024, ParameterSpaceFinalFit.BlockRows(ParameterSpaceFinalFit.BoundedParameterCount));
        Assert.AreEqual(256, ParameterSpaceFinalFit.BlockRows(2 * ParameterSpaceFinalFit.BoundedParameterCount));
        Assert.AreEqual(16, ParameterSpaceFinalFit.BlockRows(8 * ParameterSpaceFinalFit.BoundedParameterCount));
        Assert.AreEqual(1, ParameterSpaceFinalFit.BlockRows(100_000));
        foreach (long p in new long[] { 4097, 5000, 8192, 20_000, 32_768, 40_000 })
        {
            long rows = ParameterSpaceFinalFit.BlockRows(p);
            Assert.IsLessThanOrEqualTo(1024L * 4096 * 4096, rows * p * p, $"P = {p}: a block of {rows} rows costs no more than 1,024 rows at 4,096 parameters");
        }
    }

    /// <summary>X Xᵀ/n + I with X n×n standard normal (seeded).</summary>
    private static Tensor LargeGram(int n)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(17);
        Tensor x = torch.randn(n, n, dtype: ScalarType.Float64, generator: generator);
        return x.mm(x.t()).div_(n).add_(torch.eye(n, dtype: ScalarType.Float64)).MoveToOuterDisposeScope();
    }
}
