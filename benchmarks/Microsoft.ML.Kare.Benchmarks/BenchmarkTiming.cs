using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>Timing helpers shared by the benchmark modes.</summary>
internal static class BenchmarkTiming
{
    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count); NaN when empty.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
            return double.NaN;
        double[] sorted = values.OrderBy(v => v).ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle]);
    }

    /// <summary>Milliseconds <paramref name="body"/> takes to run once.</summary>
    public static double Milliseconds(Action body) => Elapsed(body).TotalMilliseconds;

    /// <summary>Seconds <paramref name="body"/> takes to run once.</summary>
    public static double Seconds(Action body) => Elapsed(body).TotalSeconds;

    private static TimeSpan Elapsed(Action body)
    {
        long start = Stopwatch.GetTimestamp();
        body();
        return Stopwatch.GetElapsedTime(start);
    }
}
