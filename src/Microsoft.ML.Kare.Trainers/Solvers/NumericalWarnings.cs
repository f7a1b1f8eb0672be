using System.Collections.Generic;
using System.Threading;
using System;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Where the solvers report a numerical fallback (jitter added to a factorisation, an eigendecomposition instead of a
/// Cholesky factor): the training monitor of the fit running on this asynchronous flow, set with <see cref="RouteTo"/>.
/// Each distinct message is reported once per route, so a fallback taken at every step does not flood the log.
/// Without a route the warnings are dropped.
/// </summary>
internal static class NumericalWarnings
{
    private static readonly AsyncLocal<Route?> Current = new();

    /// <summary>Sends this flow's warnings to <paramref name="warn"/> until the returned scope is disposed.</summary>
    public static IDisposable RouteTo(Action<string> warn)
    {
        Route? previous = Current.Value;
        Current.Value = new Route(warn);
        return new Scope(previous);
    }

    /// <summary>Reports a fallback (once per distinct message and route).</summary>
    public static void Report(string message)
    {
        Route? route = Current.Value;
        if (route is null)
            return;
        bool first;
        lock (route.Reported) // cross-validation folds train on several threads
            first = route.Reported.Add(message);
        if (first)
            route.Warn(message);
    }

    private sealed record Route(Action<string> Warn)
    {
        public HashSet<string> Reported { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Scope(Route? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
