using System;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// The range of each network input over the training rows (docs/maths.md, "Inputs outside the training range"): a
/// scored row's standardised input z_j is clipped to [<see cref="Lower"/>_j, <see cref="Upper"/>_j] before the network
/// sees it, as a tree's split thresholds do, so a value beyond every training row (a typo, a unit error, drift) scores
/// like the nearest training extreme instead of extrapolating the network's kernel. The training rows themselves are
/// inside the range, so the fit does not depend on it.
/// </summary>
internal sealed class InputRange
{
    public InputRange(double[] lower, double[] upper)
    {
        Lower = lower;
        Upper = upper;
    }

    /// <summary>Per network input, the smallest standardised value of the training rows.</summary>
    public double[] Lower { get; }

    /// <summary>Per network input, the largest standardised value of the training rows.</summary>
    public double[] Upper { get; }

    /// <summary>The column minima and maxima of row-major rows×columns <paramref name="inputs"/>.</summary>
    public static InputRange Of(double[] inputs, int rows, int columns)
    {
        if (rows < 1)
            throw new ArgumentException("The range of no rows is undefined.", nameof(rows));
        var lower = new double[columns];
        var upper = new double[columns];
        Array.Fill(lower, double.PositiveInfinity);
        Array.Fill(upper, double.NegativeInfinity);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                double value = inputs[(long)i * columns + j];
                lower[j] = Math.Min(lower[j], value);
                upper[j] = Math.Max(upper[j], value);
            }
        }
        return new InputRange(lower, upper);
    }

    /// <summary><paramref name="value"/> of input <paramref name="input"/> clipped to its range; NaN stays NaN.</summary>
    public double Clip(double value, int input)
        => value < Lower[input] ? Lower[input] : value > Upper[input] ? Upper[input] : value;

    /// <summary>
    /// Null when <paramref name="range"/> is null or consistent; otherwise the description of its first problem: a length
    /// other than <paramref name="inputCount"/>, a bound that is not finite, or a lower bound above its upper bound.
    /// </summary>
    public static string? FindProblem(InputRange? range, int inputCount)
    {
        if (range is null)
            return null;
        if (range.Lower is null || range.Upper is null || range.Lower.Length != inputCount || range.Upper.Length != inputCount)
            return $"needs a lower and an upper bound for each of its {inputCount} inputs";
        for (int j = 0; j < inputCount; j++)
        {
            if (!double.IsFinite(range.Lower[j]) || !double.IsFinite(range.Upper[j]) || range.Lower[j] > range.Upper[j])
                return $"has a training range of input {j} ([{range.Lower[j]}, {range.Upper[j]}]) that is not a finite interval";
        }
        return null;
    }
}
