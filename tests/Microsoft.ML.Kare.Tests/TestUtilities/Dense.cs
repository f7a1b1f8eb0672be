using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Tests.TestUtilities;

/// <summary>
/// Conversions between float64 TorchSharp tensors and MathNet dense matrices, seeded random data, and the error
/// measures and asserts the numeric tests share. MathNet is the independent side of every comparison.
/// </summary>
internal static class Dense
{
    /// <summary>A rows×columns matrix of independent N(0, scale²) entries.</summary>
    public static Matrix<double> Gaussian(int rows, int columns, Random random, double scale = 1.0)
        => Matrix<double>.Build.Random(rows, columns, new Normal(0, scale, random));

    /// <summary>
    /// G Gᵀ + ridge·I with G n×rank Gaussian (not scaled by the rank): an ill-conditioned, kernel-like symmetric positive
    /// definite matrix whose smallest eigenvalues are the ridge.
    /// </summary>
    public static Matrix<double> LowRankPlusRidge(int n, int rank, double ridge, Random random)
    {
        Matrix<double> g = Gaussian(n, rank, random);
        return g * g.Transpose() + ridge * Matrix<double>.Build.DenseIdentity(n);
    }

    /// <summary>A symmetric positive definite n×n matrix G Gᵀ/rank with G n×rank Gaussian (full rank when rank ≥ n).</summary>
    public static Matrix<double> RandomGram(int n, int rank, Random random)
    {
        Matrix<double> g = Gaussian(n, rank, random);
        return g * g.Transpose() / rank;
    }

    public static Tensor ToTensor(Matrix<double> matrix)
        => torch.tensor(matrix.ToRowMajorArray(), new long[] { matrix.RowCount, matrix.ColumnCount }, ScalarType.Float64);

    public static Tensor ToTensor(Vector<double> vector) => torch.tensor(vector.ToArray(), ScalarType.Float64);

    /// <summary>A 2-D (or 1-D, as one column) float64 tensor as a MathNet matrix.</summary>
    public static Matrix<double> ToMatrix(Tensor tensor)
    {
        Assert.AreEqual(ScalarType.Float64, tensor.dtype);
        using var scope = torch.NewDisposeScope();
        Tensor t = tensor.detach();
        if (t.dim() == 1)
            t = t.unsqueeze(1);
        int rows = (int)t.shape[0];
        int columns = (int)t.shape[1];
        double[] values = t.contiguous().data<double>().ToArray();
        return Matrix<double>.Build.Dense(rows, columns, (i, j) => values[i * columns + j]);
    }

    /// <summary>Row-major copy of a matrix (the layout of the backend's flat feature and target arrays).</summary>
    public static double[] RowMajor(Matrix<double> matrix) => matrix.ToRowMajorArray();

    /// <summary>‖expected − actual‖_max / ‖expected‖_max: the error relative to the size of the reference.</summary>
    public static double RelativeError(Matrix<double> expected, Matrix<double> actual)
    {
        Assert.AreEqual(expected.RowCount, actual.RowCount, "row count");
        Assert.AreEqual(expected.ColumnCount, actual.ColumnCount, "column count");
        double scale = expected.Enumerate().Max(Math.Abs);
        double error = (expected - actual).Enumerate().Max(Math.Abs);
        return scale > 0 ? error / scale : error;
    }

    public static double RelativeError(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.HasCount(expected.Count, actual);
        double scale = expected.Max(Math.Abs);
        double error = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        return scale > 0 ? error / scale : error;
    }

    /// <summary>Fails unless the measured error is at most the tolerance (and not NaN); logs the measurement.</summary>
    public static void AssertWithin(double error, double tolerance, string what, TestContext? context = null)
    {
        context?.WriteLine($"{what}: {error:E3} (tolerance {tolerance:E1})");
        Assert.IsFalse(double.IsNaN(error), $"{what}: error is NaN");
        Assert.IsLessThanOrEqualTo(tolerance, error, $"{what}: error {error:E3} exceeds {tolerance:E1}");
    }

    /// <summary>Log-spaced values from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public static double[] LogSpace(double from, double to, int count)
        => Enumerable.Range(0, count).Select(i => from * Math.Pow(to / from, i / (double)(count - 1))).ToArray();

    public static int ArgMin(IReadOnlyList<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Count; i++)
        {
            if (values[i] < values[best])
                best = i;
        }
        return best;
    }
}
