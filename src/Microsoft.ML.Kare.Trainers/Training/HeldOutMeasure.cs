using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>The held-out error of the model a run would give now, at each relative ridge of the grid (one value for network readouts).</summary>
/// <param name="Errors">Weighted mean squared error on the held-out rows (standardised units), per ridge.</param>
/// <param name="RelativeRidges">The grid of λ̃ the errors belong to; null for a network readout (no ridge).</param>
internal sealed record HeldOutErrors(double[] Errors, IReadOnlyList<double>? RelativeRidges)
{
    /// <summary>An unusable measurement (a non-finite kernel).</summary>
    public static HeldOutErrors NotFinite { get; } = new(new[] { double.NaN }, null);

    public double BestError => Errors[RidgeGrid.ArgMin(Errors)];

    /// <summary>The λ̃ of <see cref="BestError"/>; NaN for a network readout.</summary>
    public double BestRelativeRidge => RelativeRidges is null ? double.NaN : RelativeRidges[RidgeGrid.ArgMin(Errors)];
}

/// <summary>Measures the held-out error of a training run's current model (the measure behind choosing the epoch and λ̃).</summary>
internal interface IHeldOutMeasure
{
    /// <param name="run">The run whose current model is measured.</param>
    /// <param name="checkAlive">Throws when the fit is cancelled; checked during long decompositions.</param>
    HeldOutErrors Measure(TrainingRun run, Action checkAlive);
}

/// <summary>
/// Kernel ridge regression with the run's current kernel on a basis of fit rows, evaluated on the held-out rows at every
/// λ̃ of the grid from one eigendecomposition (<see cref="SpectralRidgePath"/>).
/// </summary>
internal sealed class KernelSpaceHeldOut(RowSet basis, RowSet validation, IReadOnlyList<double> grid) : IHeldOutMeasure
{
    public HeldOutErrors Measure(TrainingRun run, Action checkAlive)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        NetworkFeatures basisFeatures = run.Network.Features(basis.Features);
        NetworkFeatures validationFeatures = run.Network.Features(validation.Features);
        Tensor kernel = basis.WeightKernel(StructuredNtk.ComputeDetached(basisFeatures, basisFeatures));
        Tensor cross = basis.WeightColumns(StructuredNtk.ComputeDetached(validationFeatures, basisFeatures));
        if (!IsFinite(kernel) || !IsFinite(cross))
            return HeldOutErrors.NotFinite;
        using var path = new SpectralRidgePath(kernel, basis.WeightedTargets, checkAlive);
        return new HeldOutErrors(path.ValidationError(cross, validation.Targets, validation.Weights, grid), grid);
    }

    /// <summary>True when every entry is finite (their sum is then finite too, barring overflow, which also counts as divergence).</summary>
    private static bool IsFinite(Tensor tensor) => double.IsFinite(tensor.sum().item<double>());
}

/// <summary>The weighted mean squared error of the (linearised) network's own predictions on the held-out rows.</summary>
internal sealed class NetworkReadoutHeldOut(RowSet validation) : IHeldOutMeasure
{
    public HeldOutErrors Measure(TrainingRun run, Action checkAlive) => new(new[] { validation.MeanSquaredError(run.NetworkPredictions(validation)) }, null);
}

/// <summary>
/// Kernel ridge regression with the run's current kernel K = JJᵀ on all fit rows, solved in parameter space from one
/// eigendecomposition of the fit rows' P×P Gram matrix (<see cref="ParameterSpaceRidgePath"/>), evaluated on the
/// held-out rows at every λ̃ of the grid: O(n·P² + P³) per measurement and no cap on the basis, where the kernel path
/// pays an n×n eigendecomposition of at most <see cref="FitPlan.MaximumValidationBasisRows"/> basis rows.
/// </summary>
internal sealed class ParameterSpaceHeldOut(RowSet fit, RowSet validation, IReadOnlyList<double> grid) : IHeldOutMeasure
{
    public HeldOutErrors Measure(TrainingRun run, Action checkAlive)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using ParameterSpaceRidge normalEquations = ParameterSpaceFinalFit.NormalEquations(run.Network, fit, checkAlive);
        Tensor validationRows = StructuredNtk.JacobianRows(run.Network.Features(validation.Features));
        if (!normalEquations.IsFinite || !double.IsFinite(validationRows.sum().item<double>()))
            return HeldOutErrors.NotFinite;
        using var path = normalEquations.RidgePath(fit.WeightedTargets.Squared().sum().item<double>(), checkAlive);
        return new HeldOutErrors(path.ValidationError(validationRows, validation.Targets, validation.Weights, grid), grid);
    }
}
