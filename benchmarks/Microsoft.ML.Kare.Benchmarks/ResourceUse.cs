using System;
using System.Globalization;
using System.IO;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>This process's memory figures from /proc (Linux); NaN where they are not available.</summary>
internal static class ResourceUse
{
    /// <summary>Writing 5 to /proc/self/clear_refs resets the peak resident set size (VmHWM) to the current one.</summary>
    public static void ResetPeakResidentMemory()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The peak resident set size since the last reset, MB.</summary>
    public static double PeakResidentMegabytes() => StatusMegabytes("VmHWM");

    /// <summary>A memory figure of /proc/self/status (e.g. VmHWM, the peak resident set), in MB; NaN where missing.</summary>
    public static double StatusMegabytes(string key)
    {
        if (!File.Exists("/proc/self/status"))
            return double.NaN;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return double.Parse(parts[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        return double.NaN;
    }
}
