using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Calibrates a regression's prediction intervals on out-of-sample residuals (docs/maths.md, "Prediction intervals"):
/// each residual is made by a model (network at the kept epoch and ridge regression) that never saw the row it
/// predicts. With k-fold cross-validation: each fold's held-out rows, predicted by its fold network with the ridge
/// regression refitted on that fold's training rows only. Otherwise: the calibration rows the plan kept out of
/// training and selection, predicted by the trained network with the ridge regression on its training rows.
/// </summary>
internal static class IntervalCalibration
{
    /// <summary>Rows per block when predicting calibration rows through the explicit Jacobian.</summary>
    private const int BlockRows = 1024;

    /// <summary>The intervals of coverage <see cref="KareFitSettings.IntervalCoverage"/>, in label units (one target).</summary>
    /// <param name="plan">The fit's plan.</param>
    /// <param name="coverage">The coverage asked for.</param>
    /// <param name="sets">The fit's row sets.</param>
    /// <param name="runs">The fit's runs, every one restored to the kept epoch.</param>
    /// <param name="relativeRidge">λ̃ chosen on held-out rows, or NaN when GCV chooses it.</param>
    /// <param name="finalFit">The plan's final fit, which gives each calibrating model its β.</param>
    /// <param name="labelScale">The label's standardisation scale: residuals come back in label units.</param>
    /// <param name="checkAlive">Throws when the fit is cancelled.</param>
    public static KarePredictionInterval Calibrate(FitPlan plan, double coverage, FitRowSets sets, LockstepRuns runs, double relativeRidge,
        IFinalFit finalFit, double labelScale, Action checkAlive)
    {
        var residuals = new List<double>();
        KareIntervalCalibration calibration;
        if (plan.CrossValidation)
        {
            calibration = KareIntervalCalibration.CrossValidation;
            checkAlive();
            foreach (List<double> fold in runs.SideBySide(runs.Measured.Count, checkAlive, (fold, check) =>
                Residuals(plan, runs.Measured[fold].Run, runs.Measured[fold].Fit, sets.Splits[fold].Validation!, relativeRidge, finalFit, check)))
                residuals.AddRange(fold);
        }
        else
        {
            calibration = KareIntervalCalibration.CalibrationSplit;
            if (sets.Calibration is RowSet rows)
            {
                checkAlive();
                residuals.AddRange(Residuals(plan, runs.Model, sets.ModelFit, rows, relativeRidge, finalFit, checkAlive));
            }
        }
        for (int i = 0; i < residuals.Count; i++)
            residuals[i] *= labelScale;
        return FromResiduals(residuals, coverage, calibration);
    }

    /// <summary>Intervals of <paramref name="coverage"/> from out-of-sample absolute residuals in label units (<see cref="ConformalQuantile"/>).</summary>
    public static KarePredictionInterval FromResiduals(IReadOnlyCollection<double> absoluteResiduals, double coverage, KareIntervalCalibration calibration)
        => new(coverage, ConformalQuantile.HalfWidth(absoluteResiduals, coverage), absoluteResiduals.Count, calibration);

    /// <summary>
    /// Fits the run's ridge regression on <paramref name="fit"/> (λ̃ given, or by GCV on those rows) and returns the
    /// absolute residuals of <paramref name="rows"/> (standardised units; rows of weight 0 are left out).
    /// </summary>
    private static List<double> Residuals(FitPlan plan, TrainingRun run, RowSet fit, RowSet rows, double relativeRidge, IFinalFit finalFit, Action checkAlive)
    {
        var residuals = new List<double>(rows.Count);
        double[] predictions;
        if (plan.FinalFit == FinalFitSpace.NetworkReadout)
        {
            predictions = run.NetworkPredictions(rows);
        }
        else
        {
            FinalModel model = finalFit.Fit(run, fit, relativeRidge, leaveOneOut: false, checkAlive);
            predictions = KernelReadout(run, model.PrimalWeights, rows);
        }
        double[] targets;
        double[]? weights;
        using (torch.NewDisposeScope())
        {
            targets = rows.Targets.contiguous().data<double>().ToArray();
            weights = rows.Weights?.contiguous().data<double>().ToArray();
        }
        for (int i = 0; i < rows.Count; i++)
        {
            if (weights is null || weights[i] > 0)
                residuals.Add(Math.Abs(targets[i] - predictions[i]));
        }
        return residuals;
    }

    /// <summary>The kernel ridge regression's predictions J(rows)·β in standardised units, over blocks of rows.</summary>
    private static double[] KernelReadout(TrainingRun run, double[] primalWeights, RowSet rows)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Tensor beta = torch.tensor(primalWeights, ScalarType.Float64).unsqueeze(1);
        var predictions = new double[rows.Count];
        for (int start = 0; start < rows.Count; start += BlockRows)
        {
            using var blockScope = torch.NewDisposeScope();
            int length = Math.Min(BlockRows, rows.Count - start);
            Tensor jacobian = StructuredNtk.JacobianRows(run.Network.Features(rows.Features.narrow(0, start, length)));
            double[] block = jacobian.mm(beta).contiguous().data<double>().ToArray();
            Array.Copy(block, 0, predictions, start, length);
        }
        return predictions;
    }
}
