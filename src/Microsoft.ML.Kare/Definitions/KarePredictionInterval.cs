using System;
using System.Globalization;

namespace Microsoft.ML.Kare;

/// <summary>How a regression model's prediction intervals were calibrated (docs/maths.md, "Prediction intervals").</summary>
public enum KareIntervalCalibration
{
    /// <summary>
    /// Out-of-fold residuals of k-fold cross-validation: each row's residual comes from the fold network that neither
    /// trained on it nor fitted its ridge regression on it. The epoch and ridge were chosen on the same folds.
    /// </summary>
    CrossValidation = 1,

    /// <summary>
    /// Split conformal prediction: residuals of rows kept out of training, out of the choice of the epoch and ridge, and
    /// out of the ridge regression that predicted them.
    /// </summary>
    CalibrationSplit = 2,

    /// <summary>
    /// Exact leave-one-out residuals of kernel ridge regression with a kernel that no row trained (the infinite-width
    /// NTK): the jackknife.
    /// </summary>
    LeaveOneOut = 3,
}

/// <summary>
/// The calibration of a regression model's prediction intervals: every prediction ŷ comes with the range
/// [ŷ − <see cref="HalfWidth"/>, ŷ + <see cref="HalfWidth"/>], which holds a new row's label with probability
/// <see cref="Coverage"/> (docs/maths.md, "Prediction intervals").
/// </summary>
/// <remarks>
/// The half-width is the conformal quantile of m out-of-sample absolute residuals: the ⌈Coverage·(m + 1)⌉-th smallest,
/// or infinity when m is too small for the coverage (fewer than Coverage / (1 − Coverage) rows).
/// </remarks>
public sealed class KarePredictionInterval
{
    /// <summary>Name of the lower bound's output column.</summary>
    public const string LowerBoundColumnName = "LowerBound";

    /// <summary>Name of the upper bound's output column.</summary>
    public const string UpperBoundColumnName = "UpperBound";

    internal KarePredictionInterval(double coverage, double halfWidth, int calibrationRowCount, KareIntervalCalibration calibration)
    {
        Coverage = coverage;
        HalfWidth = halfWidth;
        CalibrationRowCount = calibrationRowCount;
        Calibration = calibration;
    }

    /// <summary>The probability, between 0 and 1, with which an interval holds a new row's label.</summary>
    public double Coverage { get; }

    /// <summary>Half the width of every interval, in label units (infinity when too few rows calibrated it).</summary>
    public double HalfWidth { get; }

    /// <summary>The number of residuals the half-width was calibrated on.</summary>
    public int CalibrationRowCount { get; }

    /// <summary>Where the residuals came from, which says what the coverage guarantee rests on.</summary>
    public KareIntervalCalibration Calibration { get; }

    /// <summary>Describes the first invalid value, or returns null.</summary>
    internal string? FindProblem()
    {
        if (!(Coverage > 0 && Coverage < 1))
            return $"its coverage ({Coverage}) is not between 0 and 1.";
        if (!(HalfWidth >= 0) || double.IsNegativeInfinity(HalfWidth))
            return $"its half-width ({HalfWidth}) is not a non-negative number.";
        if (CalibrationRowCount < 0)
            return $"its number of calibration rows ({CalibrationRowCount}) is negative.";
        if (!Enum.IsDefined(Calibration))
            return $"its calibration ({(int)Calibration}) is unknown.";
        return null;
    }

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{100 * Coverage:G4}% intervals of ±{HalfWidth:G4} ({Calibration}, {CalibrationRowCount} rows)");
}
