using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// One way a fit splits its rows: the rows a network trains on, the rows held out to measure it (none for GCV), and the
/// fit rows that form the held-out measurement's kernel basis.
/// </summary>
internal sealed record TrainingSplit(RowSet Fit, RowSet? Validation, RowSet ValidationBasis);

/// <summary>
/// The row sets of a fit, as the plan splits a random order of the rows: all rows (the final fit), and one split (a
/// single hold-out, or all rows for GCV) or, for k-fold cross-validation, k splits that each hold out one fold.
/// </summary>
internal sealed class FitRowSets : IDisposable
{
    private readonly List<RowSet> _owned;

    private FitRowSets(RowSet all, IReadOnlyList<TrainingSplit> splits, RowSet modelFit, RowSet? calibration, List<RowSet> owned)
    {
        All = all;
        Calibration = calibration;
        Splits = splits;
        ModelFit = modelFit;
        _owned = owned;
    }

    public RowSet All { get; }

    public IReadOnlyList<TrainingSplit> Splits { get; }

    /// <summary>
    /// The rows the model's network trains on: the single split's fit rows, or with cross-validation all rows in the
    /// random order (as GCV would train on them, so that the model equals a GCV fit run for the chosen epochs).
    /// </summary>
    public RowSet ModelFit { get; }

    /// <summary>The rows kept out of training and selection to calibrate prediction intervals (<see cref="FitPlan.CalibrationRows"/>), or null.</summary>
    public RowSet? Calibration { get; }

    /// <summary>
    /// The plan's splits of <paramref name="order"/>: with a hold-out its first <see cref="FitPlan.ValidationRows"/> rows
    /// are held out, the next <see cref="FitPlan.CalibrationRows"/> calibrate intervals and the next <see cref="FitPlan.FitRows"/>
    /// train (any rows after them serve the final fit only); with k folds, fold j is the j-th of k near-equal runs of the order.
    /// </summary>
    public static FitRowSets Create(StandardizedRows rows, int[] order, FitPlan plan)
    {
        var owned = new List<RowSet>();
        RowSet Set(int[] indices)
        {
            var set = new RowSet(rows.Features, rows.Targets, rows.Weights, rows.FeatureCount, rows.TargetCount, indices);
            owned.Add(set);
            return set;
        }
        RowSet all = Set(Enumerable.Range(0, rows.RowCount).ToArray());
        TrainingSplit Split(int[] fitIndex, int[]? validationIndex)
        {
            RowSet fit = Set(fitIndex);
            return new TrainingSplit(fit, validationIndex is null ? null : Set(validationIndex),
                validationIndex is not null && fitIndex.Length > FitPlan.MaximumValidationBasisRows ? Set(fitIndex.Take(FitPlan.MaximumValidationBasisRows).ToArray()) : fit);
        }
        var splits = new List<TrainingSplit>();
        if (!plan.CrossValidation)
        {
            int trainStart = plan.ValidationRows + plan.CalibrationRows;
            splits.Add(Split(order[trainStart..(trainStart + plan.FitRows)], plan.HoldOut ? order[..plan.ValidationRows] : null));
            RowSet? calibration = plan.CalibrationRows > 0 ? Set(order[plan.ValidationRows..trainStart]) : null;
            return new FitRowSets(all, splits, splits[0].Fit, calibration, owned);
        }
        for (int fold = 0; fold < plan.Folds; fold++)
        {
            int start = (int)((long)fold * order.Length / plan.Folds), end = (int)((long)(fold + 1) * order.Length / plan.Folds);
            splits.Add(Split(order[..start].Concat(order[end..]).ToArray(), order[start..end]));
        }
        return new FitRowSets(all, splits, Set(order), null, owned);
    }

    /// <summary>
    /// The row weights a screen of the labels may use (<see cref="StandardizedRows.WeighInputsByRelevance"/>):
    /// <paramref name="weights"/> (null: 1 each) with 0 for the rows held out or kept to calibrate intervals, so that the
    /// held-out errors that choose the epoch and λ̃, and the calibration, stay honest. Unchanged with cross-validation,
    /// where every row trains some fold's network.
    /// </summary>
    public static double[]? ScreenWeights(double[]? weights, int[] order, FitPlan plan)
    {
        int kept = plan.CrossValidation ? 0 : plan.ValidationRows + plan.CalibrationRows;
        if (kept == 0)
            return weights;
        double[] result = weights is null ? Enumerable.Repeat(1.0, order.Length).ToArray() : (double[])weights.Clone();
        foreach (int row in order[..kept])
            result[row] = 0;
        return result;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
    }
}
