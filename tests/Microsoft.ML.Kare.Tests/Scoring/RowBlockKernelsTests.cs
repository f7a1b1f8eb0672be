using System;
using System.Linq;
using System.Numerics;
using System.Runtime.Intrinsics;
using Microsoft.ML.Kare.Scoring;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Kare.Scoring.RowBlockKernels;

namespace Microsoft.ML.Kare.Tests.Scoring;

/// <summary>
/// The scorer's four-row kernels against plain loops over the unpadded matrices, for every combination of sums, with
/// 512-bit vectors and with <see cref="Vector{T}"/> (the two widths a processor may pick), on shapes whose rows and
/// columns are and are not multiples of the padding, so an index slip into a neighbouring row shows as a wrong sum.
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
        double[] wPadded = Pad(w, rows, columns, paddedRows, stride), bPadded = Pad(b, rows, columns, paddedRows, stride);
        double[] xPadded = Pad(x, 1, columns, 1, stride), dxPadded = Pad(dx, 1, columns, 1, stride);

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
            Run<ValueOnly>(wide, wPadded, bPadded, stride, xPadded, dxPadded, y, dy);
            AssertClose(value, y, $"{width} W x");
            Run<ValueAndPrimal>(wide, wPadded, bPadded, stride, xPadded, dxPadded, y, dy);
            AssertClose(value, y, $"{width} pair W x");
            AssertClose(primal, dy, $"{width} pair B x");
            Array.Clear(y);
            Run<All>(wide, wPadded, bPadded, stride, xPadded, dxPadded, y, dy);
            AssertClose(value, y, $"{width} triple W x");
            AssertClose(tangent, dy, $"{width} triple B x + W dx");
            Array.Clear(dy);
            Run<PrimalAndCarried>(wide, wPadded, bPadded, stride, xPadded, dxPadded, default, dy);
            AssertClose(tangent, dy, $"{width} tangent B x + W dx");
        }

        // The public entry points pick a width by processor and give the same sums.
        var y2 = new double[paddedRows];
        var dy2 = new double[paddedRows];
        ProductTriple(wPadded, bPadded, stride, xPadded, dxPadded, y2, dy2);
        AssertClose(value, y2, "ProductTriple W x");
        AssertClose(tangent, dy2, "ProductTriple B x + W dx");

        // The output layer's single-row helpers.
        Assert.AreEqual(value[0], Dot(wPadded.AsSpan(0, stride), xPadded), 1e-13 * Math.Max(1, Math.Abs(value[0])), "Dot");
        Assert.AreEqual(tangent[0], DotSum(bPadded.AsSpan(0, stride), xPadded, wPadded.AsSpan(0, stride), dxPadded),
            1e-13 * Math.Max(1, Math.Abs(tangent[0])), "DotSum");
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

    private static double[] Pad(double[] values, int rows, int columns, int paddedRows, int stride)
    {
        var result = new double[paddedRows * stride];
        for (int r = 0; r < rows; r++)
            Array.Copy(values, r * columns, result, r * stride, columns);
        return result;
    }
}
