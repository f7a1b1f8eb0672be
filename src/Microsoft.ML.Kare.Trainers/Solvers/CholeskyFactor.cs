using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>Cholesky factorisation of a symmetric positive definite matrix, with a bounded jitter fallback that is reported.</summary>
internal static class CholeskyFactor
{
    /// <summary>
    /// The lower factor L of <paramref name="matrix"/> (n×n). When the factorisation fails (rounding made the matrix
    /// indefinite) adds jitter of growing size, up to 1e-6 of the mean diagonal, and reports it through
    /// <see cref="NumericalWarnings"/>, before giving up with an explanation. For solves that can take an
    /// eigendecomposition instead, <see cref="SymmetricFactorization"/> falls back without changing the matrix.
    /// </summary>
    public static Tensor Compute(Tensor matrix, string purpose)
    {
        if (TryFactor(matrix) is Tensor factor)
            return factor;

        double meanDiagonal = matrix.diagonal().mean().ScalarValue();
        if (!double.IsFinite(meanDiagonal))
            throw new ArithmeticException($"The matrix for {purpose} has non-finite entries.");
        for (double jitter = 1e-12; jitter <= 1e-6; jitter *= 100)
        {
            using Tensor shifted = matrix.clone();
            shifted.diagonal().AddInPlace(jitter * Math.Max(meanDiagonal, double.Epsilon));
            if (TryFactor(shifted) is Tensor retry)
            {
                NumericalWarnings.Report($"The matrix for {purpose} was not numerically positive definite; it was factored with {jitter:G1} of its mean diagonal added.");
                return retry;
            }
        }
        throw new ArithmeticException($"The matrix for {purpose} is not positive definite, even with jitter; the kernel is numerically singular. Increase the ridge.");
    }

    /// <summary>Columns of L⁻¹ solved for at a time by <see cref="InverseTrace"/>.</summary>
    public const int InverseTraceBlockColumns = 256;

    /// <summary>
    /// Tr((LLᵀ)⁻¹) = ‖L⁻¹‖²_F for a lower Cholesky factor L (n×n), by column blocks of L⁻¹: the block of columns
    /// j₀ … j₁ − 1 is zero above row j₀ and below it equals L[j₀:, j₀:]⁻¹ times the first j₁ − j₀ columns of the
    /// identity. With blocks of <paramref name="blockColumns"/> the triangular solves cost about
    /// n³/3·(1 + 3b/(2n)) flops instead of the n³ of one solve against the whole identity (2.5× fewer at n = 2,000,
    /// b = 256); the blocks are freed as they are summed. Up to <see cref="RowBlockedInverseMinimumRows"/> rows each block
    /// is one triangular solve, which copies the trailing factor; above, it is solved by blocks of rows, as for
    /// <see cref="InverseDiagonal"/>, and at most an n×b block is held beside L.
    /// </summary>
    public static double InverseTrace(Tensor factor, int blockColumns = InverseTraceBlockColumns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockColumns, 1);
        long n = factor.shape[0];
        int blockRows = AutomaticBlockRows(n);
        double sum = 0;
        for (long start = 0; start < n; start += blockColumns)
        {
            using var scope = torch.NewDisposeScope();
            long width = Math.Min(blockColumns, n - start);
            sum += InverseColumns(factor, start, width, blockRows, static () => { }).Squared().sum().ScalarValue();
        }
        return sum;
    }

    /// <summary>
    /// Rows above which the column blocks of L⁻¹ are solved by blocks of rows (<see cref="InverseColumnsInRowBlocks"/>):
    /// one triangular solve of the trailing factor goes through a copy of it (libtorch solves a strided view that way), which
    /// made the leave-one-out diagonal 1.3–1.7× slower at 2,344 rows (0.24 against 0.14–0.18 s), 2.9× at 3,680 rows (0.96
    /// against 0.33 s) and 5.5× at 8,192 (18 against 3.2 s). Up to this size the one solve is kept, so smaller fits sum
    /// exactly as before.
    /// </summary>
    public const int RowBlockedInverseMinimumRows = 2048;

    /// <summary>Rows per piece of a column block's solve for an n×n factor: 0 (one solve) up to <see cref="RowBlockedInverseMinimumRows"/>, else <see cref="FactorBlockRows"/>.</summary>
    private static int AutomaticBlockRows(long n) => n > RowBlockedInverseMinimumRows ? FactorBlockRows : 0;

    /// <summary>
    /// The diagonal of (LLᵀ)⁻¹ = L⁻ᵀL⁻¹ for a lower Cholesky factor L (n×n): entry j is the squared norm of column j of
    /// L⁻¹, whose column blocks are solved as in <see cref="InverseTrace"/> (about n³/3 flops instead of the n³ of the
    /// whole inverse). <paramref name="checkAlive"/> runs after each block, so a cancellation waits for one block only.
    /// Above <see cref="RowBlockedInverseMinimumRows"/> rows each column block is itself solved by blocks of
    /// <see cref="FactorBlockRows"/> rows (<see cref="InverseColumnsInRowBlocks"/>), with a check after each (one
    /// triangular solve of the whole trailing factor ran 1.8 s between checks at 8,192 rows). Returns a new tensor
    /// (length n) in the caller's dispose scope.
    /// </summary>
    /// <param name="factor">L (n×n, lower).</param>
    /// <param name="checkAlive">Throws when the fit is cancelled.</param>
    /// <param name="blockColumns">Columns of L⁻¹ per block.</param>
    /// <param name="blockRows">Rows per piece of a column block's solve; 0 = by size (one solve up to <see cref="RowBlockedInverseMinimumRows"/> rows, else <see cref="FactorBlockRows"/>).</param>
    public static Tensor InverseDiagonal(Tensor factor, Action checkAlive, int blockColumns = InverseTraceBlockColumns, int blockRows = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockColumns, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(blockRows);
        long n = factor.shape[0];
        if (blockRows == 0)
            blockRows = AutomaticBlockRows(n);
        Tensor diagonal = torch.empty(n, dtype: factor.dtype);
        for (long start = 0; start < n; start += blockColumns)
        {
            using (var scope = torch.NewDisposeScope())
            {
                long width = Math.Min(blockColumns, n - start);
                diagonal.narrow(0, start, width).copy_(InverseColumns(factor, start, width, blockRows, checkAlive).Squared().sum(dim: 0));
            }
            checkAlive();
        }
        return diagonal;
    }

    /// <summary>
    /// Columns <paramref name="start"/> … start + width − 1 of L⁻¹ from row <paramref name="start"/> down (above it they
    /// are zero): L[start:, start:]⁻¹ times the first <paramref name="width"/> columns of the identity, by one triangular
    /// solve (<paramref name="blockRows"/> = 0) or by blocks of rows (<see cref="InverseColumnsInRowBlocks"/>, with
    /// <paramref name="checkAlive"/> after each).
    /// </summary>
    private static Tensor InverseColumns(Tensor factor, long start, long width, int blockRows, Action checkAlive)
    {
        if (blockRows > 0)
            return InverseColumnsInRowBlocks(factor, start, width, blockRows, checkAlive);
        long rows = factor.shape[0] - start;
        Tensor trailing = factor.narrow(0, start, rows).narrow(1, start, rows);
        return torch.linalg.solve_triangular(trailing, torch.eye(rows, width, dtype: factor.dtype), upper: false);
    }

    /// <summary>
    /// The columns of <see cref="InverseColumns"/> by forward substitution in blocks of <paramref name="blockRows"/> rows:
    /// with X the columns from row <paramref name="start"/> down and E the identity's, block row r is
    /// X_r = L_rr⁻¹ (E_r − L[r, start:r] X[start:r]), a product with a view of L (no copy) and a small triangular solve;
    /// <paramref name="checkAlive"/> runs after each block row.
    /// </summary>
    private static Tensor InverseColumnsInRowBlocks(Tensor factor, long start, long width, int blockRows, Action checkAlive)
    {
        long rows = factor.shape[0] - start;
        Tensor columns = torch.empty(rows, width, dtype: factor.dtype); // every block row is written before it is read
        for (long row = 0; row < rows; row += blockRows)
        {
            using (var scope = torch.NewDisposeScope())
            {
                long height = Math.Min(blockRows, rows - row);
                Tensor rightHandSide = torch.zeros(height, width, dtype: factor.dtype);
                if (row < width)
                    rightHandSide.diagonal(row).FillInPlace(1.0); // E_r: entry (a, b) is 1 where row + a = b
                if (row > 0)
                    rightHandSide.addmm_(factor.narrow(0, start + row, height).narrow(1, start, row), columns.narrow(0, 0, row), beta: 1, alpha: -1);
                Tensor diagonalBlock = factor.narrow(0, start + row, height).narrow(1, start + row, height);
                columns.narrow(0, row, height).copy_(torch.linalg.solve_triangular(diagonalBlock, rightHandSide, upper: false));
            }
            checkAlive();
        }
        return columns;
    }

    /// <summary>Largest matrix factored by one libtorch call when a cancellation check is given (about 0.8 s on 2 cores).</summary>
    public const int SingleCallMaximumRows = 4096;

    /// <summary>Block size of <see cref="TryFactorInBlocks"/>.</summary>
    public const int FactorBlockRows = 1024;

    /// <summary>
    /// The lower Cholesky factor, or null when the matrix is not numerically positive definite. Above
    /// <see cref="SingleCallMaximumRows"/> rows, when <paramref name="checkAlive"/> is given, it is factored in blocks
    /// (<see cref="TryFactorInBlocks"/>) so that a cancellation waits for one block, not for the whole factorisation.
    /// </summary>
    public static Tensor? TryFactor(Tensor matrix, Action? checkAlive)
        => checkAlive is not null && matrix.shape[0] > SingleCallMaximumRows ? TryFactorInBlocks(matrix, checkAlive) : TryFactor(matrix);

    /// <summary>
    /// The lower Cholesky factor by blocks of <paramref name="blockRows"/> (right-looking: factor the diagonal block,
    /// solve the panel below it, L_P = A_P L_D⁻ᵀ, subtract L_P L_Pᵀ from the trailing lower triangle one block row at a
    /// time), calling <paramref name="checkAlive"/> after each piece (and after copying each block of rows of the matrix
    /// first); null when a diagonal block is not positive definite.
    /// The same factor as one call, up to rounding. Returns a new tensor in the caller's dispose scope.
    /// </summary>
    public static Tensor? TryFactorInBlocks(Tensor matrix, Action checkAlive, int blockRows = FactorBlockRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockRows, 1);
        long n = matrix.shape[0];
        Tensor work = torch.empty(n, n, dtype: matrix.dtype);
        try
        {
            // Copied by blocks of rows: the first touch of n² fresh doubles took 0.9 s at 8,192 rows.
            for (long start = 0; start < n; start += blockRows)
            {
                long height = Math.Min(blockRows, n - start);
                work.narrow(0, start, height).copy_(matrix.narrow(0, start, height));
                checkAlive();
            }
            for (long start = 0; start < n; start += blockRows)
            {
                long width = Math.Min(blockRows, n - start);
                using (var scope = torch.NewDisposeScope())
                {
                    Tensor diagonalBlock = work.narrow(0, start, width).narrow(1, start, width);
                    if (TryFactor(diagonalBlock) is not Tensor factor)
                    {
                        work.Dispose();
                        return null;
                    }
                    diagonalBlock.copy_(factor);
                    long below = n - start - width;
                    if (below > 0)
                    {
                        Tensor panel = work.narrow(0, start + width, below).narrow(1, start, width);
                        panel.copy_(torch.linalg.solve_triangular(factor.t(), panel, upper: true, left: false));
                    }
                }
                checkAlive();
                for (long row = start + width; row < n; row += blockRows)
                {
                    using (var scope = torch.NewDisposeScope())
                    {
                        long height = Math.Min(blockRows, n - row);
                        long columns = row + height - (start + width); // the trailing lower triangle's columns up to this block row's diagonal
                        Tensor rowPanel = work.narrow(0, row, height).narrow(1, start, width);
                        Tensor columnPanel = work.narrow(0, start + width, columns).narrow(1, start, width);
                        Tensor target = work.narrow(0, row, height).narrow(1, start + width, columns);
                        target.AddScaledInPlace(rowPanel.mm(columnPanel.t()), -1.0);
                    }
                    checkAlive();
                }
            }
        }
        catch
        {
            work.Dispose(); // a cancellation: the caller's scope may not own it
            throw;
        }
        return work.tril_();
    }

    /// <summary>The lower Cholesky factor, or null when the matrix is not numerically positive definite.</summary>
    public static Tensor? TryFactor(Tensor matrix)
    {
        var (factor, info) = torch.linalg.cholesky_ex(matrix);
        using (info)
        {
            if (info.item<int>() == 0)
                return factor;
        }
        factor.Dispose();
        return null;
    }
}
