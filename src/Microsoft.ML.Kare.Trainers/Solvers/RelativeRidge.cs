using System;
using System.Collections.Generic;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The ridge relative to the kernel's size (docs/maths.md, "Kernel ridge regression"): λ = λ̃·Tr(K)/n². Kernel ridge
/// regression f̂ = K(x, X)(K + nλI)⁻¹y, KARE and every ridge grid of the library take λ̃, so a ridge means the same for
/// any scale of the kernel; this is the one place where λ̃ becomes λ.
/// </summary>
internal static class RelativeRidge
{
    /// <summary>λ = λ̃·Tr(K)/n² for a kernel of <paramref name="rows"/> rows whose trace is <paramref name="kernelTrace"/>.</summary>
    /// <exception cref="ArithmeticException">λ is not positive and finite (a zero, negative or non-finite trace).</exception>
    public static double ToAbsolute(double relativeRidge, double kernelTrace, long rows)
    {
        double ridge = relativeRidge * kernelTrace / ((double)rows * rows);
        if (!(ridge > 0) || double.IsInfinity(ridge))
            throw new ArithmeticException($"The kernel's trace is {kernelTrace}; the ridge λ = λ̃·Tr(K)/n² must be positive and finite.");
        return ridge;
    }

    /// <summary>
    /// The diagonal nλ that kernel ridge regression adds to K (n×n; or to JᵀJ in parameter space), for each relative
    /// ridge of <paramref name="relativeRidges"/>: the shifts of a ridge path's eigenvalues.
    /// </summary>
    public static double[] Shifts(IReadOnlyList<double> relativeRidges, double kernelTrace, long rows)
    {
        var shifts = new double[relativeRidges.Count];
        for (int i = 0; i < shifts.Length; i++)
            shifts[i] = rows * ToAbsolute(relativeRidges[i], kernelTrace, rows);
        return shifts;
    }

    /// <summary>λ = λ̃·Tr(K)/n² for the kernel K (n×n).</summary>
    public static double ToAbsolute(double relativeRidge, Tensor kernel)
        => ToAbsolute(relativeRidge, kernel.trace().ScalarValue(), kernel.shape[0]);
}
