using System.Collections.Generic;
using System.Linq;
using System;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>The model a final fit produces: β in the flat parameter layout, the ridge, and optional leave-one-out predictions.</summary>
/// <param name="RelativeRidge">λ̃ (0 for network readouts).</param>
/// <param name="Ridge">λ = λ̃·Tr(K)/n² (0 for network readouts).</param>
/// <param name="PrimalWeights">β, P×c (output k at [k·P, (k+1)·P)).</param>
/// <param name="LeaveOneOut">Leave-one-out (or, for network readouts, training) predictions n×c row-major, standardised units; or null.</param>
internal sealed record FinalModel(double RelativeRidge, double Ridge, double[] PrimalWeights, double[]? LeaveOneOut);

/// <summary>
/// The last stage of a fit: from the trained network (restored to the kept epoch) to the primal model β
/// (docs/maths.md, "Primal form"). One implementation per place the regression is solved.
/// </summary>
internal interface IFinalFit
{
    /// <param name="run">The training run, at the kept epoch.</param>
    /// <param name="all">All training rows.</param>
    /// <param name="heldOutRelativeRidge">λ̃ chosen on held-out rows, or NaN when the fit chooses it.</param>
    /// <param name="leaveOneOut">Also compute leave-one-out predictions (the classifiers calibrate on them).</param>
    /// <param name="checkAlive">Throws when the fit is cancelled; called between the fit's long operations (each at most
    /// about a second at the sizes a fit allows), so that a cancellation does not wait for the whole regression.</param>
    FinalModel Fit(TrainingRun run, RowSet all, double heldOutRelativeRidge, bool leaveOneOut, Action checkAlive);

    /// <summary>The final fit of the plan.</summary>
    public static IFinalFit For(FitPlan plan, IReadOnlyList<double> grid) => plan.FinalFit switch
    {
        FinalFitSpace.Kernel => new KernelSpaceFinalFit(grid),
        FinalFitSpace.Parameter => new ParameterSpaceFinalFit(),
        _ => new NetworkReadoutFinalFit(),
    };

    /// <summary>Throws when β has a non-finite entry.</summary>
    internal static double[] CheckFinite(double[] primal, double relativeRidge)
    {
        if (primal.Any(v => !double.IsFinite(v)))
            throw new ArithmeticException($"The kernel ridge regression produced non-finite weights at λ̃ = {relativeRidge}. The kernel is numerically singular; use a larger ridge grid.");
        return primal;
    }
}

/// <summary>
/// Kernel ridge regression on all rows with the n×n kernel: λ̃ given, or chosen by GCV over the grid; β = Jᵀ S α, and
/// the leave-one-out predictions from the same factorisation.
/// </summary>
internal sealed class KernelSpaceFinalFit(IReadOnlyList<double> grid) : IFinalFit
{
    public FinalModel Fit(TrainingRun run, RowSet all, double relativeRidge, bool leaveOneOut, Action checkAlive)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        NetworkFeatures features = run.Network.Features(all.Features);
        Tensor kernel = all.WeightKernel(StructuredNtk.ComputeDetached(features, features, StructuredNtk.BoundedBlockRows(all.Count), checkAlive));
        checkAlive();
        if (double.IsNaN(relativeRidge))
        {
            using var path = new SpectralRidgePath(kernel, all.WeightedTargets, checkAlive);
            checkAlive();
            relativeRidge = grid[RidgeGrid.ArgMin(path.GeneralizedCrossValidation(grid))];
        }
        double ridge = RelativeRidge.ToAbsolute(relativeRidge, kernel);
        Tensor alpha;
        double[]? looPredictions = null;
        if (leaveOneOut)
        {
            (alpha, Tensor loo) = KernelRidge.DualWeightsAndLeaveOneOut(kernel, all.Targets, all.WeightedTargets, all.Weights, ridge, checkAlive);
            looPredictions = loo.contiguous().data<double>().ToArray();
        }
        else
        {
            alpha = KernelRidge.DualWeights(kernel, all.WeightedTargets, ridge, checkAlive);
        }
        checkAlive();
        double[] primal = IFinalFit.CheckFinite(StructuredNtk.TransposedJacobianTimes(features, all.WeightRows(alpha)), relativeRidge);
        return new FinalModel(relativeRidge, ridge, primal, looPredictions);
    }
}

/// <summary>
/// The final fit in parameter space, for n too large for K: β = (JᵀS²J + nλI)⁻¹JᵀS²Y with J accumulated over blocks of
/// rows; the same β as the kernel-space fit. Leave-one-out predictions come from the leverages
/// h_i = s_i² j_iᵀ(JᵀS²J + nλI)⁻¹ j_i.
/// </summary>
internal sealed class ParameterSpaceFinalFit : IFinalFit
{
    /// <summary>Rows per block when accumulating JᵀJ, up to <see cref="BoundedParameterCount"/> parameters.</summary>
    private const long MaximumBlockRows = 1024;

    /// <summary>Above this many parameters a block has fewer rows, so that its JᵀJ update (2·rows·P² flops) costs no more than at this P.</summary>
    internal const long BoundedParameterCount = 4096;

    /// <summary>Rows per block for P parameters: 1,024 up to 4,096 parameters, then fewer (at least 1), so that a cancellation check comes about as often.</summary>
    internal static long BlockRows(long parameterCount)
    {
        if (parameterCount <= BoundedParameterCount)
            return MaximumBlockRows;
        double scale = (double)BoundedParameterCount / parameterCount;
        return Math.Max(1, (long)(MaximumBlockRows * scale * scale));
    }

    public FinalModel Fit(TrainingRun run, RowSet all, double relativeRidge, bool leaveOneOut, Action checkAlive)
    {
        using var noGrad = torch.no_grad();
        long outputs = all.Targets.shape[1];
        using ParameterSpaceRidge solver = NormalEquations(run.Network, all, checkAlive);
        var (weights, ridge) = solver.Solve(relativeRidge, checkAlive);
        checkAlive();
        double[] primal = IFinalFit.CheckFinite(weights.t().contiguous().data<double>().ToArray(), relativeRidge);
        return new FinalModel(relativeRidge, ridge, primal, leaveOneOut ? LeaveOneOut(run.Network, all, solver, weights, checkAlive) : null);
    }

    /// <summary>JᵀJ and JᵀY of the network's weighted Jacobian rows on <paramref name="rows"/>, accumulated block by block with a check after each.</summary>
    internal static ParameterSpaceRidge NormalEquations(MlpNetwork network, RowSet rows, Action checkAlive)
    {
        var solver = new ParameterSpaceRidge(network.Architecture.ParameterCount, rows.Targets.shape[1]);
        try
        {
            foreach (var (jacobianRows, targets, _, _) in Blocks(network, rows))
            {
                using (jacobianRows)
                using (targets)
                    solver.Accumulate(jacobianRows, targets);
                checkAlive();
            }
            return solver;
        }
        catch
        {
            solver.Dispose();
            throw;
        }
    }

    private static double[] LeaveOneOut(MlpNetwork network, RowSet all, ParameterSpaceRidge solver, Tensor weights, Action checkAlive)
    {
        long outputs = all.Targets.shape[1];
        var predictions = new double[all.Count * outputs];
        foreach (var (rows, weightedTargets, start, length) in Blocks(network, all))
        {
            using var scope = torch.NewDisposeScope();
            rows.MoveToOuterDisposeScope();
            weightedTargets.MoveToOuterDisposeScope();
            Tensor leverage = solver.Leverages(rows).unsqueeze(1);
            Tensor residual = (weightedTargets - rows.mm(weights)) / leverage.SubtractedFrom(1.0);
            Tensor targets = all.Targets.narrow(0, start, length);
            if (all.Scales is not null)
            {
                Tensor scales = all.Scales.narrow(0, start, length).unsqueeze(1);
                residual = torch.where(scales.GreaterThan(0), residual / scales, residual.FullLike(double.NaN));
            }
            double[] block = (targets - residual).contiguous().data<double>().ToArray();
            Array.Copy(block, 0, predictions, start * outputs, block.Length);
            rows.Dispose();
            weightedTargets.Dispose();
            checkAlive();
        }
        return predictions;
    }

    /// <summary>Blocks of weighted Jacobian rows S_b J_b and weighted targets S_b Y_b, with the block's first row and length.</summary>
    internal static IEnumerable<(Tensor Rows, Tensor WeightedTargets, long Start, long Length)> Blocks(MlpNetwork network, RowSet all)
    {
        long n = all.Count;
        long blockRows = BlockRows(network.Architecture.ParameterCount);
        for (long start = 0; start < n; start += blockRows)
        {
            long length = Math.Min(blockRows, n - start);
            Tensor rows;
            Tensor targets;
            using (var scope = torch.NewDisposeScope())
            {
                NetworkFeatures features = network.Features(all.Features.narrow(0, start, length));
                rows = StructuredNtk.JacobianRows(features);
                if (all.Scales is not null)
                    rows = rows * all.Scales.narrow(0, start, length).unsqueeze(1);
                targets = all.WeightedTargets.narrow(0, start, length).clone();
                rows.MoveToOuterDisposeScope();
                targets.MoveToOuterDisposeScope();
            }
            yield return (rows, targets, start, length);
        }
    }
}

/// <summary>
/// The model of a method that predicts with the (linearised) network: θ_k as the network parameters and β = θ − θ_k
/// (zero for the network itself), so that f(x; θ_k) + ∇θ f(x; θ_k)ᵀβ is the prediction; no ridge. Its "leave-one-out"
/// predictions are the training predictions (the network has no closed-form leave-one-out).
/// </summary>
internal sealed class NetworkReadoutFinalFit : IFinalFit
{
    public FinalModel Fit(TrainingRun run, RowSet all, double relativeRidge, bool leaveOneOut, Action checkAlive)
    {
        double[]? predictions = leaveOneOut ? run.NetworkPredictions(all) : null;
        ModelState state = run.Snapshot();
        var step = new double[state.Parameters.Length];
        for (int i = 0; i < step.Length; i++)
            step[i] = state.Parameters[i] - state.Anchor[i];
        return new FinalModel(0, 0, step, predictions);
    }
}
