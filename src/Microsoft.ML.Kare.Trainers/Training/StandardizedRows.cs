namespace Microsoft.ML.Kare.Training;

/// <summary>
/// The training rows standardised column by column (features and targets to mean 0 and standard deviation 1 under the
/// row weights), the statistics that undo it, and the row weights divided by their mean.
/// </summary>
internal sealed class StandardizedRows
{
    private StandardizedRows(KareTrainingData data, double[]? weights)
    {
        RowCount = data.RowCount;
        FeatureCount = data.FeatureCount;
        TargetCount = data.TargetCount;
        Weights = weights;
        (FeatureMeans, FeatureScales) = Standardization.ColumnStatistics(data.Features, RowCount, FeatureCount, weights);
        (TargetMeans, TargetScales) = Standardization.ColumnStatistics(data.Targets, RowCount, TargetCount, weights);
        Features = Standardization.Apply(data.Features, RowCount, FeatureCount, FeatureMeans, FeatureScales);
        Targets = Standardization.Apply(data.Targets, RowCount, TargetCount, TargetMeans, TargetScales);
    }

    public int RowCount { get; }
    public int FeatureCount { get; }
    public int TargetCount { get; }

    /// <summary>Standardised features, row-major n×d.</summary>
    public double[] Features { get; }

    /// <summary>Standardised targets, row-major n×c.</summary>
    public double[] Targets { get; }

    /// <summary>Row weights divided by their mean, or null when unweighted.</summary>
    public double[]? Weights { get; }

    public double[] FeatureMeans { get; }
    public double[] FeatureScales { get; }
    public double[] TargetMeans { get; }
    public double[] TargetScales { get; }

    public static StandardizedRows Create(KareTrainingData data) => new(data, Standardization.NormalizedWeights(data.Weights));

    /// <summary>mean + scale·value column by column, in place (row-major n×c target values); returns <paramref name="values"/>.</summary>
    public double[] UnstandardizeTargets(double[] values)
    {
        for (int i = 0; i < RowCount; i++)
        {
            for (int j = 0; j < TargetCount; j++)
                values[(long)i * TargetCount + j] = TargetMeans[j] + TargetScales[j] * values[(long)i * TargetCount + j];
        }
        return values;
    }
}
