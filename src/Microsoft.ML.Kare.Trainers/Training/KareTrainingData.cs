using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Training rows handed to the backend, already cleaned of missing values: a row-major n×d feature matrix, n labels
/// (n×c targets for multi-output tasks) and optional non-negative weights.
/// </summary>
internal sealed class KareTrainingData
{
    public KareTrainingData(double[] features, int rowCount, int featureCount, double[] targets, int targetCount, double[]? weights)
    {
        if (features.Length != (long)rowCount * featureCount)
            throw new ArgumentException($"Expected {rowCount}×{featureCount} features, got {features.Length} values.", nameof(features));
        if (targets.Length != (long)rowCount * targetCount)
            throw new ArgumentException($"Expected {rowCount}×{targetCount} targets, got {targets.Length} values.", nameof(targets));
        if (weights is not null && weights.Length != rowCount)
            throw new ArgumentException($"Expected {rowCount} weights, got {weights.Length}.", nameof(weights));
        Features = features;
        RowCount = rowCount;
        FeatureCount = featureCount;
        Targets = targets;
        TargetCount = targetCount;
        Weights = weights;
    }

    /// <summary>Row-major n×d features.</summary>
    public double[] Features { get; }

    public int RowCount { get; }

    public int FeatureCount { get; }

    /// <summary>Row-major n×c targets (c = 1 for regression).</summary>
    public double[] Targets { get; }

    public int TargetCount { get; }

    /// <summary>Per-row weights, or null for equal weights.</summary>
    public double[]? Weights { get; }
}
