using System;
using System.Collections.Generic;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>The benchmark modes' command-line arguments: <c>--name value</c> pairs and flags.</summary>
internal static class CommandLine
{
    /// <summary>The value after the last <paramref name="name"/>, or null.</summary>
    public static string? Value(string[] args, string name)
    {
        int i = Array.LastIndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The values after every <paramref name="name"/> (a repeatable argument).</summary>
    public static IEnumerable<string> Values(string[] args, string name)
    {
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == name)
                yield return args[i + 1];
        }
    }

    /// <summary>The comma-separated list after <paramref name="name"/>, or null.</summary>
    public static string[]? List(string[] args, string name)
        => Value(args, name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
