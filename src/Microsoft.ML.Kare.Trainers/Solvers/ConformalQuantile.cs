using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The conformal quantile of absolute residuals (docs/maths.md, "Prediction intervals"): with m residuals exchangeable
/// with a new row's, the ⌈c·(m + 1)⌉-th smallest bounds the new row's absolute residual with probability at least c.
/// </summary>
internal static class ConformalQuantile
{
    /// <summary>
    /// The half-width of intervals of coverage <paramref name="coverage"/> (0 &lt; c &lt; 1) from absolute residuals:
    /// the ⌈c·(m + 1)⌉-th smallest, or positive infinity when that rank exceeds m (too few residuals for the coverage).
    /// Non-finite residuals are refused.
    /// </summary>
    public static double HalfWidth(IReadOnlyCollection<double> absoluteResiduals, double coverage)
    {
        ArgumentNullException.ThrowIfNull(absoluteResiduals);
        if (!(coverage > 0 && coverage < 1))
            throw new ArgumentOutOfRangeException(nameof(coverage), coverage, "The coverage must be between 0 and 1.");
        if (absoluteResiduals.Any(r => !(r >= 0) || double.IsPositiveInfinity(r)))
            throw new ArgumentException("Every absolute residual must be a non-negative finite number.", nameof(absoluteResiduals));
        int m = absoluteResiduals.Count;
        int rank = Rank(m, coverage);
        if (rank > m)
            return double.PositiveInfinity;
        double[] sorted = absoluteResiduals.ToArray();
        Array.Sort(sorted);
        return sorted[rank - 1];
    }

    /// <summary>⌈c·(m + 1)⌉, robust to the rounding of c·(m + 1) just above an integer (0.9 · 10 = 9.000000000000002).</summary>
    public static int Rank(int count, double coverage) => (int)Math.Ceiling(coverage * (count + 1) - 1e-9);
}
