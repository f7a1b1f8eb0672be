using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// The KARE objective and its gradient in parameter space (docs/maths.md, "KARE in parameter space"), for a kernel
/// K = JJᵀ given by explicit features J (n×P) with P &lt; n: every n×n quantity of <see cref="KareObjective"/> is
/// replaced, by the Woodbury identity, by P×P ones built from the Gram matrix JᵀJ and the moments g = JᵀY.
/// With M = (JᵀJ + nλI)⁻¹ and λ = z·Tr(JᵀJ)/n²:
///   A = (K/n + λI)⁻¹ = (I − JMJᵀ)/λ,  AJ = n·JM,  JᵀAY = n·Mg,  JᵀA²Y = n²·M²g,
///   Tr A = (n − P + nλ·Tr M)/λ,  Tr A² = (n − P + n²λ²·‖M‖²_F)/λ²,
///   YᵀA²Y = (‖Y‖² − gᵀMg − nλ·‖Mg‖²)/λ²,  YᵀA³Y = (‖Y‖² − gᵀMg − nλ·‖Mg‖² − n²λ²·(Mg)ᵀM²g)/λ³,
/// and the gradient with respect to J is dρ/dJ = 2·(dρ/dK)·J with
///   (dρ/dK)J = J(2N/(n²D³)·n²M² + γI) − [AY·n²(M²g)ᵀ + A²Y·n(Mg)ᵀ]/(n²·c·D²),
/// per row block, with AY = (Y − JMg)/λ and A²Y = (AY − n·JM²g)/λ. So ρ costs O(nP²) for JᵀJ plus O(P³), and the
/// gradient another O(nP²), instead of O(n³).
/// </summary>
internal sealed class ParameterSpaceKareObjective : IDisposable
{
    private readonly Tensor _mg;       // M g, P×c
    private readonly Tensor _m2g;      // M² g, P×c
    private readonly Tensor _jacobianFactor; // Q = (2N/(n²D³))·n²M² + γI, P×P
    private readonly double _ridge;
    private readonly double _outerScale; // 1/(n²·c·D²)
    private readonly long _rows;

    private ParameterSpaceKareObjective(double value, double ridge, Tensor mg, Tensor m2g, Tensor jacobianFactor, double outerScale, long rows)
    {
        Value = value;
        _ridge = ridge;
        _mg = mg;
        _m2g = m2g;
        _jacobianFactor = jacobianFactor;
        _outerScale = outerScale;
        _rows = rows;
    }

    /// <summary>ρ (NaN when not finite).</summary>
    public double Value { get; }

    /// <summary>
    /// ρ and the gradient's P×P quantities from the accumulated statistics of all n rows.
    /// </summary>
    /// <param name="gram">JᵀJ (P×P), not modified.</param>
    /// <param name="moments">g = JᵀY (P×c).</param>
    /// <param name="targetEnergy">‖Y‖²_F.</param>
    /// <param name="rows">n.</param>
    /// <param name="relativeRidge">z &gt; 0.</param>
    public static ParameterSpaceKareObjective Create(Tensor gram, Tensor moments, double targetEnergy, long rows, double relativeRidge)
    {
        long p = gram.shape[0];
        long c = moments.shape[1];
        double n = rows;
        double ridge = RelativeRidge.ToAbsolute(relativeRidge, gram.trace().item<double>(), rows);
        using var scope = torch.NewDisposeScope();
        Tensor shifted = gram.clone();
        shifted.diagonal().AddInPlace(n * ridge);
        Tensor m = CholeskyFactor.Compute(shifted, "the KARE objective in parameter space").cholesky_inverse();
        Tensor mg = m.mm(moments);
        Tensor m2g = m.mm(mg);
        double nl = n * ridge;
        double gMg = (moments * mg).sum().item<double>();
        double mgNorm = mg.Squared().sum().item<double>();
        double gM3g = (mg * m2g).sum().item<double>();
        Tensor m2 = m.mm(m);
        double traceA = (n - p + nl * m.trace().item<double>()) / ridge;
        double traceA2 = (n - p + nl * nl * m2.trace().item<double>()) / (ridge * ridge);
        double yA2y = (targetEnergy - gMg - nl * mgNorm) / (ridge * ridge);
        double yA3y = (targetEnergy - gMg - nl * mgNorm - nl * nl * gM3g) / (ridge * ridge * ridge);

        double numerator = yA2y / (n * c);
        double denominator = traceA / n;
        double value = numerator / (denominator * denominator);
        double d2 = denominator * denominator;
        double d3 = d2 * denominator;
        double dRhoDRidge = -2.0 * yA3y / (n * c * d2) + 2.0 * numerator * traceA2 / (n * d3);
        double scaleA2 = 2.0 * numerator / (n * n * d3);
        Tensor jacobianFactor = m2.MultiplyInPlace(scaleA2 * n * n);
        jacobianFactor.diagonal().AddInPlace(dRhoDRidge * relativeRidge / (n * n));
        return new ParameterSpaceKareObjective(double.IsFinite(value) ? value : double.NaN, ridge,
            mg.DetachFromDisposeScope(), m2g.DetachFromDisposeScope(), jacobianFactor.DetachFromDisposeScope(), 1.0 / (n * n * c * d2), rows);
    }

    /// <summary>
    /// dρ/dJ for a block of rows: 2·(dρ/dK)·J_b (b×P), from the block's feature rows J_b (b×P, detached) and targets Y_b
    /// (b×c); a new tensor in the caller's dispose scope.
    /// </summary>
    public Tensor JacobianGradient(Tensor jacobianRows, Tensor targets)
    {
        using var scope = torch.NewDisposeScope();
        double n = _rows;
        Tensor ay = (targets - jacobianRows.mm(_mg)).DivideInPlace(_ridge);
        Tensor a2y = (ay - jacobianRows.mm(_m2g).MultiplyInPlace(n)).DivideInPlace(_ridge);
        Tensor gradient = jacobianRows.mm(_jacobianFactor);
        // (addmm_'s scalar factors are float32, so the float64 scales go into the left factors instead.)
        gradient.addmm_(ay.MultiplyInPlace(-_outerScale * n * n), _m2g.t());
        gradient.addmm_(a2y.MultiplyInPlace(-_outerScale * n), _mg.t());
        gradient.MultiplyInPlace(2.0);
        return gradient.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _mg.Dispose();
        _m2g.Dispose();
        _jacobianFactor.Dispose();
    }
}
