using System;

namespace Microsoft.ML.Kare.Tests.TestUtilities;

/// <summary>Standard normal draws for test data (Box–Muller from two uniforms of <see cref="Random"/>).</summary>
internal static class StandardNormal
{
    /// <summary>One draw: √(−2 ln(1 − u₁))·cos(2π u₂), u₁ drawn first.</summary>
    public static double Draw(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
