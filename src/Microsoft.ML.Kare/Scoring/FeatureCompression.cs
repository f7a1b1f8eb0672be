using System;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// The compression of a heavy-tailed feature column before it is standardised (docs/maths.md, "Skewed features"):
/// x ↦ sign(x)·ln(1 + |x|/s), with s &gt; 0 the column's compression scale; s = 0 leaves the column as it is. The map is
/// odd, increasing and defined for every real x, so a row outside the training range scores like any other.
/// </summary>
internal static class FeatureCompression
{
    /// <summary>The compressed value of <paramref name="value"/> in a column of compression scale <paramref name="scale"/>.</summary>
    public static double Apply(double value, double scale)
        => scale > 0 ? Math.CopySign(Math.Log(1 + Math.Abs(value) / scale), value) : value;

    /// <summary>True when some column is compressed (a scale is positive).</summary>
    public static bool Any(double[]? scales) => scales is not null && Array.Exists(scales, s => s > 0);

    /// <summary>
    /// Null when the scales are null, or the description of the first scale that is not 0 or a positive finite number, or
    /// of a length other than <paramref name="featureCount"/>.
    /// </summary>
    public static string? FindProblem(double[]? scales, int featureCount)
    {
        if (scales is null)
            return null;
        if (scales.Length != featureCount)
            return $"needs {featureCount} feature compression scales, got {scales.Length}";
        for (int j = 0; j < scales.Length; j++)
        {
            if (!(scales[j] >= 0 && double.IsFinite(scales[j])))
                return $"compression scale of feature {j} ({scales[j]}) is not 0 or a positive finite number";
        }
        return null;
    }
}
