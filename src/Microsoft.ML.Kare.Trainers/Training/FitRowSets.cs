using System.Linq;
using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// The row sets of a fit, as the plan splits a random order of the rows: all rows (the final fit), the rows the network
/// trains on, the held-out rows, and the fit rows that form the held-out measurement's kernel basis.
/// </summary>
internal sealed class FitRowSets : IDisposable
{
    private readonly RowSet? _basis;

    private FitRowSets(RowSet all, RowSet fit, RowSet? validation, RowSet? basis)
    {
        All = all;
        Fit = fit;
        Validation = validation;
        _basis = basis;
    }

    public RowSet All { get; }

    public RowSet Fit { get; }

    /// <summary>The held-out rows, or null without a hold-out.</summary>
    public RowSet? Validation { get; }

    /// <summary>The first <see cref="FitPlan.MaximumValidationBasisRows"/> fit rows (all of them when fewer).</summary>
    public RowSet ValidationBasis => _basis ?? Fit;

    /// <summary>The first <see cref="FitPlan.ValidationRows"/> rows of <paramref name="order"/> are held out; the rest train.</summary>
    public static FitRowSets Create(StandardizedRows rows, int[] order, FitPlan plan)
    {
        RowSet Set(int[] indices) => new(rows.Features, rows.Targets, rows.Weights, rows.FeatureCount, rows.TargetCount, indices);
        int[] fitIndex = order.Skip(plan.ValidationRows).ToArray();
        return new FitRowSets(
            Set(Enumerable.Range(0, rows.RowCount).ToArray()),
            Set(fitIndex),
            plan.HoldOut ? Set(order.Take(plan.ValidationRows).ToArray()) : null,
            plan.HoldOut && fitIndex.Length > FitPlan.MaximumValidationBasisRows ? Set(fitIndex.Take(FitPlan.MaximumValidationBasisRows).ToArray()) : null);
    }

    public void Dispose()
    {
        _basis?.Dispose();
        Validation?.Dispose();
        Fit.Dispose();
        All.Dispose();
    }
}
