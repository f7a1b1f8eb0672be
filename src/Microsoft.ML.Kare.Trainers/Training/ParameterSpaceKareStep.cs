using System;
using System.Diagnostics;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Exact KARE training in parameter space (docs/maths.md, "KARE in parameter space"): ρ and dρ/dθ of the batch's kernel
/// K = JJᵀ from the explicit Jacobian J (n×P) and P×P quantities (<see cref="ParameterSpaceKareObjective"/>), in
/// O(nP² + P³) per step instead of the kernel path's O(n³); the same value and gradient as <see cref="KernelKareStep"/>.
/// J is built in blocks of rows: one block keeps J with its autograd history; several take a first pass without
/// history for JᵀJ and JᵀY, then rebuild each block's J with history for its share of the gradient.
/// </summary>
internal sealed class ParameterSpaceKareStep : ITrainingStep
{
    /// <summary>A block's Jacobian rows are kept near this many bytes (float64).</summary>
    private const long BlockBytes = 64L << 20;

    private readonly MlpNetwork _network;
    private readonly ParameterOptimizer _optimizer;
    private readonly double _relativeRidge;
    private readonly long _blockRows;

    /// <param name="network">The network whose kernel is trained.</param>
    /// <param name="optimizer">Its optimiser.</param>
    /// <param name="relativeRidge">z of the KARE objective, λ = z·Tr(K)/n².</param>
    /// <param name="blockRows">Rows per block of J (0: about 64 MB of float64 per block).</param>
    public ParameterSpaceKareStep(MlpNetwork network, ParameterOptimizer optimizer, double relativeRidge, long blockRows = 0)
    {
        _network = network;
        _optimizer = optimizer;
        _relativeRidge = relativeRidge;
        _blockRows = blockRows > 0 ? blockRows : DefaultBlockRows(network.Architecture.ParameterCount);
    }

    /// <summary>Rows per block of J for P parameters: about 64 MB of float64, at least 256 rows.</summary>
    public static long DefaultBlockRows(long parameterCount) => Math.Max(256, BlockBytes / sizeof(double) / parameterCount);

    /// <summary>
    /// When set, each step adds its time split to it: <see cref="KareStepPhase.Kernel"/> is the forward pass, J and
    /// JᵀJ; <see cref="KareStepPhase.Solve"/> the P×P solve; <see cref="KareStepPhase.KernelBackward"/> dρ/dJ (J·Q);
    /// <see cref="KareStepPhase.NetworkBackward"/> autograd from J to θ.
    /// </summary>
    public KareStepProfile? Profile { get; set; }

    public double Step(RowSet batch, bool batchIsFixed)
    {
        double value = AccumulateGradient(batch);
        if (!double.IsFinite(value))
            return value;
        long start = Stopwatch.GetTimestamp();
        _optimizer.Step();
        Profile?.Add(KareStepPhase.Update, start);
        Profile?.CountStep();
        return value;
    }

    public double Objective(RowSet rows)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using ParameterSpaceKareObjective? objective = Statistics(rows, keptBlock: null, Stopwatch.GetTimestamp());
        return objective?.Value ?? double.NaN;
    }

    /// <summary>ρ at the current θ and dρ/dθ added to each parameter's <c>grad</c>; NaN (and no gradient) when not finite.</summary>
    public double AccumulateGradient(RowSet batch)
    {
        using var scope = torch.NewDisposeScope();
        bool oneBlock = batch.Count <= _blockRows;
        long time = Stopwatch.GetTimestamp();
        Tensor? kept = oneBlock ? WeightedJacobian(batch, 0, batch.Count) : null;
        ParameterSpaceKareObjective? objective;
        using (torch.no_grad())
            objective = Statistics(batch, kept, time);
        using ParameterSpaceKareObjective? owned = objective;
        if (objective is null || !double.IsFinite(objective.Value))
            return double.NaN;
        for (long start = 0; start < batch.Count; start += _blockRows)
        {
            using var blockScope = torch.NewDisposeScope();
            long length = Math.Min(_blockRows, batch.Count - start);
            time = Stopwatch.GetTimestamp();
            Tensor rows = kept ?? WeightedJacobian(batch, start, length);
            Tensor gradient;
            using (torch.no_grad())
                gradient = objective.JacobianGradient(rows.detach(), batch.WeightedTargets.narrow(0, start, length));
            Profile?.Add(KareStepPhase.KernelBackward, time);
            time = Stopwatch.GetTimestamp();
            torch.autograd.backward(new[] { rows }, new[] { gradient });
            Profile?.Add(KareStepPhase.NetworkBackward, time);
        }
        return objective.Value;
    }

    /// <summary>
    /// JᵀJ, JᵀY and ‖Y‖² over all rows (from <paramref name="keptBlock"/> when it holds them all), then ρ's P×P
    /// quantities; null when the Jacobian is not finite.
    /// </summary>
    private ParameterSpaceKareObjective? Statistics(RowSet rows, Tensor? keptBlock, long startTimestamp)
    {
        long p = _network.Architecture.ParameterCount;
        Tensor gram = torch.zeros(p, p, ScalarType.Float64);
        Tensor moments = torch.zeros(p, rows.WeightedTargets.shape[1], ScalarType.Float64);
        for (long start = 0; start < rows.Count; start += _blockRows)
        {
            using var blockScope = torch.NewDisposeScope();
            long length = Math.Min(_blockRows, rows.Count - start);
            Tensor block = keptBlock?.detach() ?? WeightedJacobian(rows, start, length);
            gram.addmm_(block.t(), block);
            moments.addmm_(block.t(), rows.WeightedTargets.narrow(0, start, length));
        }
        if (!double.IsFinite(gram.sum().item<double>()))
            return null;
        Profile?.Add(KareStepPhase.Kernel, startTimestamp);
        long solveStart = Stopwatch.GetTimestamp();
        double energy = rows.WeightedTargets.Squared().sum().item<double>();
        var objective = ParameterSpaceKareObjective.Create(gram, moments, energy, rows.Count, _relativeRidge);
        Profile?.Add(KareStepPhase.Solve, solveStart);
        return objective;
    }

    /// <summary>S_b J_b for rows [start, start + length): the weighted Jacobian rows (with autograd history unless under no_grad).</summary>
    private Tensor WeightedJacobian(RowSet rows, long start, long length)
    {
        NetworkFeatures features = _network.Features(rows.Features.narrow(0, start, length));
        Tensor jacobian = StructuredNtk.JacobianRows(features);
        return rows.Scales is Tensor scales ? jacobian * scales.narrow(0, start, length).unsqueeze(1) : jacobian;
    }

    public void Dispose()
    {
    }
}
