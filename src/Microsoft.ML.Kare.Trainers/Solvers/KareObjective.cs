using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The KARE objective (docs/maths.md, "KARE") with the ridge tied to the kernel's size, λ = z·Tr(K)/n², which makes it scale
/// invariant in K. With A = (K/n + λI)⁻¹ and targets Y (n×c):
///   N = Tr(YᵀA²Y)/(n·c),  D = Tr(A)/n,  ρ = N/D².
/// Its gradient with respect to K, in closed form (no autograd through the solve):
///   ∂ρ/∂K|_λ = −[(AY)(A²Y)ᵀ + (A²Y)(AY)ᵀ]/(n²·c·D²) + 2N·A²/(n²·D³),
///   ∂ρ/∂λ    = −2·Σ(AY ⊙ A²Y)/(n·c·D²) + 2N·Tr(A²)/(n·D³),
///   dρ/dK    = ∂ρ/∂K|_λ + ∂ρ/∂λ · (z/n²)·I.
/// </summary>
internal static class KareObjective
{
    /// <summary>ρ and dρ/dK for a symmetric positive semi-definite kernel K (n×n) and targets Y (n×c).</summary>
    /// <param name="kernel">K, n×n, float64, detached.</param>
    /// <param name="targets">Y, n×c, float64.</param>
    /// <param name="relativeRidge">z &gt; 0.</param>
    /// <returns>ρ, and a new n×n tensor dρ/dK (caller's dispose scope), the ridge λ used.</returns>
    public static (double Value, Tensor Gradient, double Ridge) ValueAndGradient(Tensor kernel, Tensor targets, double relativeRidge)
    {
        long n = kernel.shape[0];
        long c = targets.shape[1];
        double ridge = RelativeRidge.ToAbsolute(relativeRidge, kernel);

        Tensor gradient;
        double value;
        using (var scope = torch.NewDisposeScope())
        {
            Tensor a = InverseOfShifted(kernel, ridge);
            Tensor ay = a.mm(targets);
            Tensor a2y = a.mm(ay);
            Tensor a2 = a.mm(a);
            double numerator = (targets * a2y).sum().item<double>() / (n * c);
            double denominator = a.trace().item<double>() / n;
            value = numerator / (denominator * denominator);

            double d2 = denominator * denominator;
            double d3 = d2 * denominator;
            double dRhoDRidge = -2.0 * (ay * a2y).sum().item<double>() / (n * c * d2)
                                + 2.0 * numerator * a.Squared().sum().item<double>() / (n * d3); // Tr(A²) = ‖A‖_F²

            // dρ/dK = α₁·A² − β₁·[(AY)(A²Y)ᵀ + (A²Y)(AY)ᵀ] + γ₁·I, built in place in one buffer.
            double scaleA2 = 2.0 * numerator / ((double)n * n * d3);
            double scaleOuter = 1.0 / ((double)n * n * c * d2);
            // (addmm_'s scalar factors are float32, so the float64 scale goes into a vector instead.)
            Tensor scaledAy = ay.Times(-scaleOuter);
            gradient = a2.MultiplyInPlace(scaleA2);
            gradient.addmm_(scaledAy, a2y.t());
            gradient.addmm_(a2y, scaledAy.t());
            gradient.diagonal().AddInPlace(dRhoDRidge * relativeRidge / ((double)n * n));
            gradient.MoveToOuterDisposeScope();
        }
        return (value, gradient, ridge);
    }

    /// <summary>
    /// ρ and dρ/dK as <see cref="ValueAndGradient"/>, without n×n temporaries beyond the Cholesky factor and A:
    /// <paramref name="kernel"/> is overwritten (it becomes K/n + λI), and dρ/dK is written into
    /// <paramref name="gradient"/> (n×n, contiguous; may be the same tensor as <paramref name="kernel"/>).
    /// A² is formed once, by a matrix product into the gradient buffer, and every scale is applied in place.
    /// </summary>
    /// <returns>ρ, or NaN (gradient unspecified) when it is not finite.</returns>
    public static double ValueAndGradientInPlace(Tensor kernel, Tensor targets, double relativeRidge, Tensor gradient)
    {
        long n = kernel.shape[0];
        long c = targets.shape[1];
        double ridge = RelativeRidge.ToAbsolute(relativeRidge, kernel);
        using var scope = torch.NewDisposeScope();
        Tensor shifted = kernel.DivideInPlace(n);
        shifted.diagonal().AddInPlace(ridge);
        Tensor a = InverseOfSymmetricPositiveDefinite(shifted);
        Tensor ay = a.mm(targets);
        Tensor a2y = a.mm(ay);
        Tensor a2 = gradient.addmm_(a, a, 0f, 1f);
        double numerator = (targets * a2y).sum().ScalarValue() / (n * c);
        double denominator = a.trace().ScalarValue() / n;
        double traceA2 = a2.trace().ScalarValue();
        a.Dispose();
        double value = numerator / (denominator * denominator);
        if (!double.IsFinite(value))
            return double.NaN;

        double d2 = denominator * denominator;
        double d3 = d2 * denominator;
        double dRhoDRidge = -2.0 * (ay * a2y).sum().ScalarValue() / (n * c * d2) + 2.0 * numerator * traceA2 / (n * d3);
        double scaleA2 = 2.0 * numerator / ((double)n * n * d3);
        double scaleOuter = 1.0 / ((double)n * n * c * d2);
        Tensor scaledAy = ay.Times(-scaleOuter);
        a2.MultiplyInPlace(scaleA2);
        a2.addmm_(scaledAy, a2y.t(), 1f, 1f);
        a2.addmm_(a2y, scaledAy.t(), 1f, 1f);
        a2.diagonal().AddInPlace(dRhoDRidge * relativeRidge / ((double)n * n));
        return value;
    }

    /// <summary>
    /// ρ exactly and an unbiased stochastic estimate of dρ/dK (docs/maths.md, "KARE"): A² in dρ/dK, and Tr(A²) in ∂ρ/∂λ,
    /// are replaced by (1/m) Σ_k (A z_k)(A z_k)ᵀ and (1/m) Σ_k ‖A z_k‖² for the m columns z_k of
    /// <paramref name="probes"/> (n×m, standard normal), so the estimate is linear in the probe average and its mean is
    /// the exact gradient. The solve needs only the Cholesky factor L (A y, A² y and A Z by triangular solves) and
    /// ‖L⁻¹‖_F² for the exact D = Tr A/n (<see cref="CholeskyFactor.InverseTrace"/>, by blocks of L⁻¹); no n×n inverse or
    /// product. In-place conventions as
    /// <see cref="ValueAndGradientInPlace"/>.
    /// </summary>
    public static double ValueAndStochasticGradientInPlace(Tensor kernel, Tensor targets, double relativeRidge, Tensor probes, Tensor gradient)
    {
        long n = kernel.shape[0];
        long c = targets.shape[1];
        long m = probes.shape[1];
        double ridge = RelativeRidge.ToAbsolute(relativeRidge, kernel);
        using var scope = torch.NewDisposeScope();
        Tensor shifted = kernel.DivideInPlace(n);
        shifted.diagonal().AddInPlace(ridge);
        Tensor factor = CholeskyFactor.Compute(shifted, "the KARE objective");
        Tensor ay = targets.cholesky_solve(factor);
        Tensor a2y = ay.cholesky_solve(factor);
        Tensor az = probes.cholesky_solve(factor);
        double traceA = CholeskyFactor.InverseTrace(factor); // Tr A = ‖L⁻¹‖_F²
        double numerator = (targets * a2y).sum().ScalarValue() / (n * c);
        double denominator = traceA / n;
        double value = numerator / (denominator * denominator);
        if (!double.IsFinite(value))
            return double.NaN;

        double traceA2 = az.Squared().sum().ScalarValue() / m;
        double d2 = denominator * denominator;
        double d3 = d2 * denominator;
        double dRhoDRidge = -2.0 * (ay * a2y).sum().ScalarValue() / (n * c * d2) + 2.0 * numerator * traceA2 / (n * d3);
        double scaleA2 = 2.0 * numerator / ((double)n * n * d3);
        double scaleOuter = 1.0 / ((double)n * n * c * d2);
        Tensor scaledAz = az.Times(scaleA2 / m);
        Tensor scaledAy = ay.Times(-scaleOuter);
        gradient.addmm_(scaledAz, az.t(), 0f, 1f);
        gradient.addmm_(scaledAy, a2y.t(), 1f, 1f);
        gradient.addmm_(a2y, scaledAy.t(), 1f, 1f);
        gradient.diagonal().AddInPlace(dRhoDRidge * relativeRidge / ((double)n * n));
        return value;
    }

    /// <summary>ρ alone (the same quantity as <see cref="ValueAndGradient"/>).</summary>
    public static double Value(Tensor kernel, Tensor targets, double relativeRidge)
    {
        long n = kernel.shape[0];
        long c = targets.shape[1];
        using var scope = torch.NewDisposeScope();
        Tensor a = InverseOfShifted(kernel, RelativeRidge.ToAbsolute(relativeRidge, kernel));
        Tensor ay = a.mm(targets);
        double numerator = ay.Squared().sum().item<double>() / (n * c);
        double denominator = a.trace().item<double>() / n;
        return numerator / (denominator * denominator);
    }

    /// <summary>
    /// S⁻¹ for the symmetric positive definite S = K/n + λI, from its Cholesky factor (potrf then potri: n³/3 + 2n³/3
    /// flops). In one quiet run it took 17 ms against 23 ms for LU (linalg.inv) at n = 800, 31 against 43 ms at 1,000 and
    /// 176 against 290 ms at 2,000; the earlier preference for LU came from measurements on a loaded machine.
    /// </summary>
    private static Tensor InverseOfSymmetricPositiveDefinite(Tensor shifted)
    {
        using Tensor factor = CholeskyFactor.Compute(shifted, "the KARE objective");
        return factor.cholesky_inverse();
    }

    /// <summary>A = (K/n + λI)⁻¹ by Cholesky, leaving <paramref name="kernel"/> unchanged.</summary>
    private static Tensor InverseOfShifted(Tensor kernel, double ridge)
    {
        long n = kernel.shape[0];
        Tensor shifted = kernel.DividedBy(n);
        shifted.diagonal().AddInPlace(ridge);
        return InverseOfSymmetricPositiveDefinite(shifted);
    }
}
