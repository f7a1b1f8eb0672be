using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// Matrix-vector products of the scorer's layers on zero-padded row-major matrices, four rows at a time: each vector of
/// x (and dx) is loaded once per four rows, and the twelve accumulators (value, primal and carried sums of four rows)
/// are independent, so the fused multiply-adds run at the processor's throughput instead of waiting for each other.
/// </summary>
/// <remarks>
/// Every matrix is stored by <see cref="Pack"/>: rows padded with zeros to a whole number of <see cref="Padding"/> values
/// and zero rows added to a whole number of blocks of <see cref="RowBlock"/> rows, so there are no scalar tails; within a
/// block, the rows' units of <see cref="Padding"/> values are interleaved (row 0's values 0–7, row 1's 0–7, …, row 3's
/// 0–7, row 0's 8–15, …), so a product reads each matrix as one sequential stream. That measured 20–30% faster than
/// four separate row streams (2 × 128 network: 4.1–4.4 against 5.0–6.4 µs per row). The kernels run on 512-bit vectors
/// where the processor has them and on <see cref="Vector{T}"/> elsewhere; the two give the same sums to rounding.
/// </remarks>
internal static class RowBlockKernels
{
    /// <summary>Rows are padded to a multiple of this many values: a whole number of vectors from 128 to 512 bits.</summary>
    public const int Padding = 8;

    /// <summary>Rows per block.</summary>
    public const int RowBlock = 4;

    static RowBlockKernels()
    {
        if (Padding % Vector<double>.Count != 0)
            throw new PlatformNotSupportedException($"The KARE scorer pads rows to {Padding} values, not a whole number of {Vector<double>.Count}-value vectors.");
    }

    /// <summary>The length rounded up to a whole number of <see cref="Padding"/> values (also a whole number of row blocks).</summary>
    public static int Padded(int length) => (length + Padding - 1) / Padding * Padding;

    /// <summary>
    /// The rows × columns row-major block of <paramref name="values"/> at <paramref name="offset"/> in the kernels' layout
    /// (see the remarks): <see cref="Padded"/>(rows) × <see cref="Padded"/>(columns) values.
    /// </summary>
    public static double[] Pack(ReadOnlySpan<double> values, int offset, int rows, int columns)
    {
        int units = Padded(columns) / Padding;
        var packed = new double[Padded(rows) * units * Padding];
        for (int r = 0; r < rows; r++)
        {
            int block = r / RowBlock, row = r % RowBlock;
            for (int column = 0; column < columns; column++)
            {
                int unit = column / Padding;
                packed[((block * units + unit) * RowBlock + row) * Padding + column % Padding] = values[offset + r * columns + column];
            }
        }
        return packed;
    }

    /// <summary>y = M x for a packed matrix M (y.Length rows of <paramref name="stride"/> values).</summary>
    public static void Product(ReadOnlySpan<double> m, int stride, ReadOnlySpan<double> x, Span<double> y)
        => Products<ValueOnly>(m, default, stride, x, default, y, default);

    /// <summary>y = W x and dy = B x: a first layer's forward values and one output's tangent.</summary>
    public static void ProductPair(ReadOnlySpan<double> w, ReadOnlySpan<double> b, int stride, ReadOnlySpan<double> x, Span<double> y, Span<double> dy)
        => Products<ValueAndPrimal>(w, b, stride, x, default, y, dy);

    /// <summary>y = W x and dy = B x + W dx: a hidden layer's forward values and one output's tangent, reading W once.</summary>
    public static void ProductTriple(ReadOnlySpan<double> w, ReadOnlySpan<double> b, int stride, ReadOnlySpan<double> x, ReadOnlySpan<double> dx,
        Span<double> y, Span<double> dy)
        => Products<All>(w, b, stride, x, dx, y, dy);

    /// <summary>dy = B x + W dx: a further output's tangent (the forward values are already known).</summary>
    public static void TangentProduct(ReadOnlySpan<double> w, ReadOnlySpan<double> b, int stride, ReadOnlySpan<double> x, ReadOnlySpan<double> dx, Span<double> dy)
        => Products<PrimalAndCarried>(w, b, stride, x, dx, default, dy);

    /// <summary>The kernel on the widest vectors the processor has.</summary>
    private static void Products<TParts>(ReadOnlySpan<double> w, ReadOnlySpan<double> b, int stride, ReadOnlySpan<double> x, ReadOnlySpan<double> dx,
        Span<double> y, Span<double> dy)
        where TParts : struct, IParts
    {
        if (Vector512.IsHardwareAccelerated)
            Products<Vector512<double>, Lanes512, TParts>(w, b, stride, x, dx, y, dy);
        else
            Products<Vector<double>, LanesVector, TParts>(w, b, stride, x, dx, y, dy);
    }

    /// <summary>b·x + w·dx for padded vectors (an output layer's tangent).</summary>
    public static double DotSum(ReadOnlySpan<double> b, ReadOnlySpan<double> x, ReadOnlySpan<double> w, ReadOnlySpan<double> dx)
    {
        double sum = 0;
        for (int i = 0; i < b.Length; i++)
            sum = Math.FusedMultiplyAdd(b[i], x[i], Math.FusedMultiplyAdd(w[i], dx[i], sum));
        return sum;
    }

    /// <summary>w·x for padded vectors.</summary>
    public static double Dot(ReadOnlySpan<double> w, ReadOnlySpan<double> x)
    {
        double sum = 0;
        for (int i = 0; i < w.Length; i++)
            sum = Math.FusedMultiplyAdd(w[i], x[i], sum);
        return sum;
    }

    /// <summary>
    /// The one kernel behind the four products: for each block of four rows r, accumulates W_r·x (value), B_r·x (primal)
    /// and W_r·dx (carried) as the flags ask, then writes y_r = value and dy_r = primal + carried.
    /// </summary>
    /// <remarks>Internal (with the types that choose the vector width and the sums) so that tests can run every combination on any processor.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Products<TVector, TLanes, TParts>(ReadOnlySpan<double> w, ReadOnlySpan<double> b, int stride,
        ReadOnlySpan<double> x, ReadOnlySpan<double> dx, Span<double> y, Span<double> dy)
        where TVector : unmanaged
        where TLanes : struct, ILanes<TVector>
        where TParts : struct, IParts
    {
        int rows = TParts.Value ? y.Length : dy.Length;
        if (stride % Padding != 0 || rows % RowBlock != 0)
            throw new ArgumentException($"The packed layout needs a stride that is a multiple of {Padding} and a multiple of {RowBlock} rows, got {stride} and {rows}.");
        int vectors = stride / TLanes.Count;
        // Lengths are checked once here (the slices throw when a span is short); the loop then reads through references.
        ref TVector x0 = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<double, TVector>(x.Slice(0, stride)));
        ref TVector dx0 = ref TParts.Carried ? ref MemoryMarshal.GetReference(MemoryMarshal.Cast<double, TVector>(dx.Slice(0, stride))) : ref x0;
        ref TVector w0Row = ref TParts.Value || TParts.Carried ? ref MemoryMarshal.GetReference(MemoryMarshal.Cast<double, TVector>(w.Slice(0, rows * stride))) : ref x0;
        ref TVector b0Row = ref TParts.Primal ? ref MemoryMarshal.GetReference(MemoryMarshal.Cast<double, TVector>(b.Slice(0, rows * stride))) : ref x0;
        if (TParts.Primal)
            _ = dy.Slice(0, rows);
        int per = Padding / TLanes.Count; // vectors per unit of Padding values
        int units = stride / Padding;
        for (int r = 0; r < rows; r += RowBlock)
        {
            ref TVector wBlock = ref Unsafe.Add(ref w0Row, r * vectors);
            ref TVector bBlock = ref Unsafe.Add(ref b0Row, TParts.Primal ? r * vectors : 0);
            TVector v0 = TLanes.Zero, v1 = TLanes.Zero, v2 = TLanes.Zero, v3 = TLanes.Zero;
            TVector p0 = TLanes.Zero, p1 = TLanes.Zero, p2 = TLanes.Zero, p3 = TLanes.Zero;
            TVector c0 = TLanes.Zero, c1 = TLanes.Zero, c2 = TLanes.Zero, c3 = TLanes.Zero;
            for (int unit = 0; unit < units; unit++)
            {
                for (int u = 0; u < per; u++)
                {
                    int i = unit * per + u;                 // the vector of x
                    int o = unit * RowBlock * per + u;      // row 0's vector in the block; row j's is j·per further
                    TVector xi = Unsafe.Add(ref x0, i);
                    if (TParts.Value || TParts.Carried)
                    {
                        TVector w0 = Unsafe.Add(ref wBlock, o), w1 = Unsafe.Add(ref wBlock, o + per), w2 = Unsafe.Add(ref wBlock, o + 2 * per), w3 = Unsafe.Add(ref wBlock, o + 3 * per);
                        if (TParts.Value)
                        {
                            v0 = TLanes.FusedMultiplyAdd(w0, xi, v0);
                            v1 = TLanes.FusedMultiplyAdd(w1, xi, v1);
                            v2 = TLanes.FusedMultiplyAdd(w2, xi, v2);
                            v3 = TLanes.FusedMultiplyAdd(w3, xi, v3);
                        }
                        if (TParts.Carried)
                        {
                            TVector dxi = Unsafe.Add(ref dx0, i);
                            c0 = TLanes.FusedMultiplyAdd(w0, dxi, c0);
                            c1 = TLanes.FusedMultiplyAdd(w1, dxi, c1);
                            c2 = TLanes.FusedMultiplyAdd(w2, dxi, c2);
                            c3 = TLanes.FusedMultiplyAdd(w3, dxi, c3);
                        }
                    }
                    if (TParts.Primal)
                    {
                        p0 = TLanes.FusedMultiplyAdd(Unsafe.Add(ref bBlock, o), xi, p0);
                        p1 = TLanes.FusedMultiplyAdd(Unsafe.Add(ref bBlock, o + per), xi, p1);
                        p2 = TLanes.FusedMultiplyAdd(Unsafe.Add(ref bBlock, o + 2 * per), xi, p2);
                        p3 = TLanes.FusedMultiplyAdd(Unsafe.Add(ref bBlock, o + 3 * per), xi, p3);
                    }
                }
            }
            if (TParts.Value)
            {
                y[r] = TLanes.Sum(v0);
                y[r + 1] = TLanes.Sum(v1);
                y[r + 2] = TLanes.Sum(v2);
                y[r + 3] = TLanes.Sum(v3);
            }
            if (TParts.Primal)
            {
                if (TParts.Carried)
                {
                    p0 = TLanes.Add(p0, c0);
                    p1 = TLanes.Add(p1, c1);
                    p2 = TLanes.Add(p2, c2);
                    p3 = TLanes.Add(p3, c3);
                }
                dy[r] = TLanes.Sum(p0);
                dy[r + 1] = TLanes.Sum(p1);
                dy[r + 2] = TLanes.Sum(p2);
                dy[r + 3] = TLanes.Sum(p3);
            }
        }
    }

    /// <summary>Which sums a product forms (constants the JIT folds, one specialised kernel per combination).</summary>
    internal interface IParts
    {
        static abstract bool Value { get; }
        static abstract bool Primal { get; }
        static abstract bool Carried { get; }
    }

    internal struct ValueOnly : IParts
    {
        public static bool Value => true;
        public static bool Primal => false;
        public static bool Carried => false;
    }

    internal struct ValueAndPrimal : IParts
    {
        public static bool Value => true;
        public static bool Primal => true;
        public static bool Carried => false;
    }

    internal struct All : IParts
    {
        public static bool Value => true;
        public static bool Primal => true;
        public static bool Carried => true;
    }

    internal struct PrimalAndCarried : IParts
    {
        public static bool Value => false;
        public static bool Primal => true;
        public static bool Carried => true;
    }

    /// <summary>The few vector operations the kernel needs, for one vector type.</summary>
    internal interface ILanes<TVector>
    {
        static abstract int Count { get; }
        static abstract TVector Zero { get; }
        static abstract TVector FusedMultiplyAdd(TVector a, TVector b, TVector addend);
        static abstract TVector Add(TVector a, TVector b);
        static abstract double Sum(TVector v);
    }

    internal struct Lanes512 : ILanes<Vector512<double>>
    {
        public static int Count => Vector512<double>.Count;
        public static Vector512<double> Zero => Vector512<double>.Zero;
        public static Vector512<double> FusedMultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> addend) => Vector512.FusedMultiplyAdd(a, b, addend);
        public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;
        public static double Sum(Vector512<double> v) => Vector512.Sum(v);
    }

    internal struct LanesVector : ILanes<Vector<double>>
    {
        public static int Count => Vector<double>.Count;
        public static Vector<double> Zero => Vector<double>.Zero;
        public static Vector<double> FusedMultiplyAdd(Vector<double> a, Vector<double> b, Vector<double> addend) => Vector.FusedMultiplyAdd(a, b, addend);
        public static Vector<double> Add(Vector<double> a, Vector<double> b) => a + b;
        public static double Sum(Vector<double> v) => Vector.Sum(v);
    }
}
