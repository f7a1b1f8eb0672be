using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// What counts as a clear failure to load a damaged model. ML.NET wraps a loader's exception in an
/// <see cref="InvalidOperationException"/> ("Error during class instantiation") or a
/// <see cref="System.Reflection.TargetInvocationException"/>, and its zip reader wraps the zip layer's, so the whole chain
/// is judged:
/// <list type="bullet">
/// <item>always a defect: a <see cref="NullReferenceException"/>, <see cref="IndexOutOfRangeException"/>,
/// <see cref="OutOfMemoryException"/>, <see cref="AccessViolationException"/>, <see cref="OverflowException"/>,
/// <see cref="InvalidCastException"/>, <see cref="DivideByZeroException"/> or <see cref="ArrayTypeMismatchException"/>
/// anywhere in the chain: the marks of a loader that trusted a value it should have checked;</item>
/// <item>clear (strict, required for damage in what the KARE format stores): a <see cref="FormatException"/> (ML.NET's
/// and KARE's decode checks, naming the field or stream), an <see cref="InvalidDataException"/> (the zip layer: damaged
/// headers, deflate data or central directory) or an <see cref="EndOfStreamException"/> in the chain, with a message;</item>
/// <item>also clear for damage in ML.NET's own parts of the file (its model headers, transformer entries): ML.NET's
/// argument checks (an <see cref="ArgumentException"/> such as "Could not find feature column 'Featurѥs'") and
/// <see cref="FileLoadException"/> or <see cref="FileNotFoundException"/> when the loader assembly name stored in an
/// ML.NET header is damaged, and ML.NET's "Repository doesn't contain entry …" when a damaged name in the zip's directory
/// hides an entry; their messages name the column, assembly or entry.</item>
/// </list>
/// </summary>
internal static class LoadOutcome
{
    private static readonly Type[] Clear = { typeof(FormatException), typeof(InvalidDataException), typeof(EndOfStreamException) };

    private static readonly Type[] Defects =
    {
        typeof(NullReferenceException), typeof(IndexOutOfRangeException), typeof(OutOfMemoryException), typeof(AccessViolationException),
        typeof(OverflowException), typeof(InvalidCastException), typeof(DivideByZeroException), typeof(InsufficientExecutionStackException),
        typeof(ArrayTypeMismatchException),
    };

    public static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
            yield return e;
    }

    public static Exception Innermost(Exception ex) => Chain(ex).Last();

    /// <summary>The innermost format error of the chain (the one whose message names the problem), else the innermost exception.</summary>
    public static Exception Named(Exception ex) => Chain(ex).LastOrDefault(e => Clear.Contains(e.GetType())) ?? Innermost(ex);

    /// <summary>"Outer → inner" type names, for counting outcomes.</summary>
    public static string Describe(Exception ex) => string.Join(" → ", Chain(ex).Select(e => e.GetType().Name).Distinct());

    /// <summary>
    /// Whether <paramref name="ex"/> is a clear load failure; <paramref name="strict"/> accepts only format errors (for
    /// damage in the KARE format's own bytes), otherwise ML.NET's own argument and assembly checks count too.
    /// </summary>
    public static bool IsClear(Exception ex, bool strict, out string reason)
    {
        Exception? defect = Chain(ex).FirstOrDefault(e => Defects.Any(d => d.IsInstanceOfType(e)));
        if (defect is not null)
        {
            reason = $"{defect.GetType().Name} in the chain";
            return false;
        }
        Exception named = Named(ex);
        bool clear = Clear.Contains(named.GetType())
                     || !strict && (named is ArgumentException or FileLoadException or FileNotFoundException || IsMissingEntry(named));
        if (!clear)
        {
            reason = $"no {(strict ? "format error" : "format, argument or assembly error")} in the chain (innermost {Innermost(ex).GetType().Name})";
            return false;
        }
        if (string.IsNullOrWhiteSpace(named.Message))
        {
            reason = "empty message";
            return false;
        }
        reason = "";
        return true;
    }

    /// <summary>
    /// ML.NET's own report of a zip entry it cannot find (a damaged entry name in the zip's directory), which names the
    /// entry: "Repository doesn't contain entry …".
    /// </summary>
    private static bool IsMissingEntry(Exception ex)
        => ex is InvalidOperationException && ex.Message.Contains("Repository doesn't contain entry", StringComparison.Ordinal);

    /// <summary>Fails unless <paramref name="ex"/> is a clear load failure in the strict sense.</summary>
    public static void AssertClear(Exception ex, string context)
    {
        if (!IsClear(ex, strict: true, out string reason))
            throw new AssertFailedException($"{context}: not a clear load failure ({reason}): {ex}");
    }
}
