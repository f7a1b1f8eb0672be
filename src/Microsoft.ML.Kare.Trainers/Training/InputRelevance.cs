using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Input weights from a univariate relevance screen (docs/maths.md, "Relevance-weighted inputs"): each standardised input
/// column j is multiplied by w_j = √(a + (1 − a)·r_j / r̄), where r_j is the column's bias-adjusted correlation ratio
/// with the targets and r̄ its mean over the weighted columns, so that the network's kernel starts with longer length
/// scales on columns that say little about the label and shorter ones on those that say much, while the weighted columns'
/// mean of w² stays 1 (their total scale, which sets the kernel's bandwidth, is kept). The share a keeps every column in the kernel:
/// a column that matters only together with others keeps at least √a of its scale, and training can grow it back.
/// </summary>
internal static class InputRelevance
{
    /// <summary>Bins of a column with more distinct values than this are quantile bins of (about) equal row counts.</summary>
    public const int MaximumBins = 10;

    /// <summary>
    /// a, the share of w² that every column gets whatever its relevance. Measured on the public suite and the paper
    /// simulation (README, "Relevance-weighted inputs"): of 0.1, 0.25 and 0.5 on the three suite sets the default rule
    /// changes (ames, dna, hpc), 0.25 was best on ames and hpc and within 0.0006 of the best on dna.
    /// </summary>
    public const double UniformShare = 0.25;

    /// <summary>
    /// <see cref="KareRelevanceWeighting.Automatic"/> weights the indicator inputs above this many training rows (the
    /// rows above which automatic selection holds out rows instead of cross-validating): on the public suite's three
    /// larger sets with indicator columns it gained 0.008–0.010, on the smaller ones it moved both ways.
    /// </summary>
    public const int AutomaticMinimumRows = FitPlan.AutomaticCrossValidationRows;

    /// <summary>The weighting a fit of <paramref name="rows"/> training rows applies for <paramref name="setting"/> (never Automatic).</summary>
    public static KareRelevanceWeighting Resolve(KareRelevanceWeighting setting, int rows)
        => setting != KareRelevanceWeighting.Automatic ? setting
            : rows > AutomaticMinimumRows ? KareRelevanceWeighting.Indicators : KareRelevanceWeighting.None;

    /// <summary>
    /// The weights w_j of the columns of row-major rows×columns features (the network's inputs, standardised or not:
    /// bins and two-valued columns do not change under it) for standardised row-major rows×targetCount targets: with
    /// <paramref name="indicatorsOnly"/> only two-valued columns (among rows of positive weight) are weighted and r̄ is
    /// their mean relevance, the others keep 1. The weighted columns' mean of w² is 1. All weights are 1 when r̄ is
    /// within the screen's noise, √(2(B − 1))/m (the standard deviation of a column's adjusted η² when the label does not
    /// depend on it, B the most bins of a weighted column): otherwise one column with a chance relevance among many with
    /// none would take nearly all the weight. Returns null when no weight differs from 1.
    /// </summary>
    public static double[]? Weights(double[] features, int rows, int columns, double[] targets, int targetCount, double[]? weights, bool indicatorsOnly)
    {
        bool[] weighted = new bool[columns];
        for (int j = 0; j < columns; j++)
            weighted[j] = !indicatorsOnly || Standardization.TwoValues(features, rows, columns, j, weights) is not null;
        var (relevance, binCounts) = CorrelationRatios(features, rows, columns, targets, targetCount, weights, weighted);
        double mean = 0;
        int count = 0, mostBins = 1;
        for (int j = 0; j < columns; j++)
        {
            if (!weighted[j])
                continue;
            mean += relevance[j];
            count++;
            mostBins = Math.Max(mostBins, binCounts[j]);
        }
        mean /= Math.Max(1, count);
        if (!(mean > Math.Sqrt(2.0 * (mostBins - 1)) / EffectiveRows(rows, weights)))
            return null;
        var result = new double[columns];
        bool any = false;
        for (int j = 0; j < columns; j++)
        {
            result[j] = weighted[j] ? Math.Sqrt(UniformShare + (1 - UniformShare) * relevance[j] / mean) : 1.0;
            any |= result[j] != 1.0;
        }
        return any ? result : null;
    }

    /// <summary>m = (Σw)²/Σw², the effective number of rows (the row count when unweighted).</summary>
    public static double EffectiveRows(int rows, double[]? weights)
    {
        double total = 0, squares = 0;
        for (int i = 0; i < rows; i++)
        {
            double w = weights?[i] ?? 1.0;
            total += w;
            squares += w * w;
        }
        return total * total / squares;
    }

    /// <summary>
    /// r_j: the correlation ratio η² of each target with column j's bins (the share of the target's weighted variance
    /// explained by its mean per bin), adjusted for the bins' count like an adjusted R², 1 − (1 − η²)(m − 1)/(m − b) with
    /// m = (Σw)²/Σw² the effective number of rows, floored at 0, and averaged over the targets. Bins: one per distinct
    /// value when a column has at most <see cref="MaximumBins"/>, otherwise <see cref="MaximumBins"/> quantile bins by
    /// rank (equal values may fall in neighbouring bins). Rows of weight 0 count for nothing.
    /// </summary>
    public static (double[] Ratios, int[] BinCounts) CorrelationRatios(double[] features, int rows, int columns, double[] targets, int targetCount,
        double[]? weights, bool[]? columnsToScreen = null)
    {
        double effectiveRows = EffectiveRows(rows, weights);
        var (targetMeans, targetVariances, _) = Standardization.WeightedMeansAndSquaredDeviations(targets, rows, targetCount, weights);

        var result = new double[columns];
        var binCounts = new int[columns];
        var column = new double[rows];
        var bins = new int[rows];
        for (int j = 0; j < columns; j++)
        {
            if (columnsToScreen is not null && !columnsToScreen[j])
                continue;
            for (int i = 0; i < rows; i++)
                column[i] = features[(long)i * columns + j];
            int binCount = AssignBins(column, weights, bins);
            binCounts[j] = binCount;
            var binWeights = new double[binCount];
            var binSums = new double[binCount * targetCount];
            for (int i = 0; i < rows; i++)
            {
                double w = weights?[i] ?? 1.0;
                if (!(w > 0))
                    continue;
                binWeights[bins[i]] += w;
                for (int k = 0; k < targetCount; k++)
                    binSums[bins[i] * targetCount + k] += w * targets[(long)i * targetCount + k];
            }
            double total = 0;
            for (int k = 0; k < targetCount; k++)
            {
                if (!(targetVariances[k] > 0))
                    continue;
                double between = 0;
                for (int b = 0; b < binCount; b++)
                {
                    if (!(binWeights[b] > 0))
                        continue;
                    double deviation = binSums[b * targetCount + k] / binWeights[b] - targetMeans[k];
                    between += binWeights[b] * deviation * deviation;
                }
                double ratio = between / targetVariances[k];
                double adjusted = effectiveRows > binCount ? 1 - (1 - ratio) * (effectiveRows - 1) / (effectiveRows - binCount) : 0;
                total += Math.Max(0, adjusted);
            }
            result[j] = total / targetCount;
        }
        return (result, binCounts);
    }

    /// <summary>
    /// Writes the bin of each row of positive weight into <paramref name="bins"/> (−1 for the others) and returns the
    /// number of bins, each of which holds at least one such row.
    /// </summary>
    private static int AssignBins(double[] column, double[]? weights, int[] bins)
    {
        int rows = column.Length;
        int counted = 0;
        for (int i = 0; i < rows; i++)
        {
            if ((weights?[i] ?? 1.0) > 0)
                counted++;
        }
        double[] keys = new double[counted];
        int[] order = new int[counted];
        for (int i = 0, k = 0; i < rows; i++)
        {
            bins[i] = -1;
            if ((weights?[i] ?? 1.0) > 0)
            {
                keys[k] = column[i];
                order[k++] = i;
            }
        }
        Array.Sort(keys, order);
        int distinct = 0;
        for (int k = 0; k < counted && distinct <= MaximumBins; k++)
        {
            if (k == 0 || keys[k] != keys[k - 1])
                distinct++;
        }
        if (distinct <= MaximumBins)
        {
            for (int k = 0, bin = -1; k < counted; k++)
            {
                if (k == 0 || keys[k] != keys[k - 1])
                    bin++;
                bins[order[k]] = bin;
            }
            return distinct;
        }
        for (int rank = 0; rank < counted; rank++)
            bins[order[rank]] = (int)((long)rank * MaximumBins / counted);
        return MaximumBins;
    }
}
