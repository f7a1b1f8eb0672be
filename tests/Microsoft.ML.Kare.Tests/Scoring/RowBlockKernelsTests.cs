using System;
using System.Linq;
using System.Numerics;
using System.Runtime.Intrinsics;
using Microsoft.ML.Kare.Scoring;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Kare.Scoring.RowBlockKernels;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>
/// The scorer's four-row kernels on packed matrices (<see cref="RowBlockKernels.Pack"/>) against plain loops over the
/// unpacked ones, for every combination of sums, with 512-bit vectors and with <see cref="Vector{T}"/> (the two widths a
/// processor may pick), on shapes whose rows and columns are and are not multiples of the padding and the row block,
/// so an index slip into a neighbouring row or unit shows as a wrong sum.
/// </summary>
[TestClass]
public sealed class RowBlockKernelsTests
{
    [TestMethod]
    [DataRow(26, 128)]
    [DataRow(5, 7)]
    [DataRow(8, 8)]
    [DataRow(1, 3)]
    [DataRow(131, 9)]
    public void ProductsEqualPlainLoops(int columns, int rows)
    {
        var random = new Random(columns * 1000 + rows);
        int stride = Padded(columns);
        int paddedRows = Padded(rows);
        double[] w = Matrix(random, rows, columns), b = Matrix(random, rows, columns);
        double[] x = Vector(random, columns), dx = Vector(random, columns);
        double[] wPacked = Pack(w, 0, rows, columns), bPacked = Pack(b, 0, rows, columns);
        double[] xPadded = Pad(x, stride), dxPadded = Pad(dx, stride);
        Assert.HasCount(paddedRows * stride, wPacked);

        double[] value = new double[rows], primal = new double[rows], carried = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < columns; j++)
            {
                value[r] += w[r * columns + j] * x[j];
                primal[r] += b[r * columns + j] * x[j];
                carried[r] += w[r * columns + j] * dx[j];
            }
        }
        double[] tangent = primal.Zip(carried, (p, c) => p + c).ToArray();

        foreach (bool wide in new[] { true, false })
        {
            string width = wide ? "512-bit" : $"{Vector<double>.Count * 64}-bit";
            var y = new double[paddedRows];
            var dy = new double[paddedRows];
            Run<ValueOnly>(wide, wPacked, bPacked, stride, xPadded, dxPadded, y, dy);
            AssertClose(value, y, $"{width} W x");
            Run<ValueAndPrimal>(wide, wPacked, bPacked, stride, xPadded, dxPadded, y, dy);
            AssertClose(value, y, $"{width} pair W x");
            AssertClose(primal, dy, $"{width} pair B x");
            Array.Clear(y);
            Run<All>(wide, wPacked, bPacked, stride, xPadded, dxPadded, y, dy);
            AssertClose(value, y, $"{width} triple W x");
            AssertClose(tangent, dy, $"{width} triple B x + W dx");
            Array.Clear(dy);
            Run<PrimalAndCarried>(wide, wPacked, bPacked, stride, xPadded, dxPadded, default, dy);
            AssertClose(tangent, dy, $"{width} tangent B x + W dx");
        }

        // The public entry points pick a width by processor and give the same sums.
        var y2 = new double[paddedRows];
        var dy2 = new double[paddedRows];
        ProductTriple(wPacked, bPacked, stride, xPadded, dxPadded, y2, dy2);
        AssertClose(value, y2, "ProductTriple W x");
        AssertClose(tangent, dy2, "ProductTriple B x + W dx");

        // The output layer's single-row helpers, on row 0 padded.
        double[] wRow = Pad(w.AsSpan(0, columns).ToArray(), stride), bRow = Pad(b.AsSpan(0, columns).ToArray(), stride);
        Assert.AreEqual(value[0], Dot(wRow, xPadded), 1e-13 * Math.Max(1, Math.Abs(value[0])), "Dot");
        Assert.AreEqual(tangent[0], DotSum(bRow, xPadded, wRow, dxPadded), 1e-13 * Math.Max(1, Math.Abs(tangent[0])), "DotSum");
    }

    /// <summary>A stride or row count outside the packed layout is refused before any memory is read.</summary>
    [TestMethod]
    public void ShapesOutsideThePackedLayoutAreRefused()
    {
        var matrix = new double[64];
        var x = new double[16];
        Assert.ThrowsExactly<ArgumentException>(() => Product(matrix, 12, x, new double[4]));
        Assert.ThrowsExactly<ArgumentException>(() => Product(matrix, 8, x, new double[6]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Product(matrix, 8, x, new double[12])); // 12 rows of 8 > 64 values
    }

    private static void Run<TParts>(bool wide, double[] w, double[] b, int stride, double[] x, double[] dx, Span<double> y, Span<double> dy)
        where TParts : struct, IParts
    {
        if (wide)
            Products<Vector512<double>, Lanes512, TParts>(w, b, stride, x, dx, y, dy);
        else
            Products<Vector<double>, LanesVector, TParts>(w, b, stride, x, dx, y, dy);
    }

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        for (int r = 0; r < expected.Length; r++)
        {
            double scale = Math.Max(1, Math.Abs(expected[r]));
            Assert.AreEqual(expected[r], actual[r], 1e-13 * scale, $"{what}, row {r}");
        }
    }

    private static double[] Matrix(Random random, int rows, int columns)
        => Enumerable.Range(0, rows * columns).Select(_ => 2 * random.NextDouble() - 1).ToArray();

    private static double[] Vector(Random random, int length)
        => Enumerable.Range(0, length).Select(_ => 2 * random.NextDouble() - 1).ToArray();

    private static double[] Pad(double[] values, int length)
    {
        var result = new double[length];
        Array.Copy(values, result, values.Length);
        return result;
    }
}
