using System;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// The training rows standardised column by column (features and targets to mean 0 and standard deviation 1 under the
/// row weights; skewed feature columns compressed first, <see cref="SkewedFeatures"/>), the statistics that undo it, and
/// the row weights divided by their mean. With normal scores (<see cref="NormalScoreColumns"/>) the network's inputs are
/// the features followed by the scores of the scored columns, and every statistic is per input.
/// </summary>
internal sealed class StandardizedRows
{
    // The network's inputs before standardisation, kept until Features is first read (so that relevance weights can
    // still be folded into the scales and the inputs standardised once, as the scorer computes them).
    private double[]? _inputs;
    private double[]? _features;
    private bool _weighed;

    private StandardizedRows(KareTrainingData data, double[]? weights, bool compressSkewedFeatures, bool scaleIndicatorsByRange, bool appendNormalScores)
    {
        RowCount = data.RowCount;
        FeatureCount = data.FeatureCount;
        TargetCount = data.TargetCount;
        Weights = weights;
        double[] features = data.Features;
        double[]? scales = compressSkewedFeatures ? SkewedFeatures.CompressionScales(features, RowCount, FeatureCount, weights) : null;
        if (appendNormalScores && NormalScoreColumns.Fit(features, RowCount, FeatureCount, weights, scales) is NormalScores map)
        {
            NormalScores = map;
            features = NormalScoreColumns.Append(features, RowCount, map);
            // The features' scales are known; the scores are inputs too, compressed by the same rule.
            if (scales is not null)
                scales = [.. scales, .. SkewedFeatures.CompressionScales(features, RowCount, map.InputCount, weights, firstColumn: FeatureCount)[FeatureCount..]];
            FeatureCount = map.InputCount;
        }
        if (scales is not null && FeatureCompression.Any(scales))
        {
            FeatureCompressionScales = scales;
            features = Compress(features, RowCount, FeatureCount, scales);
        }
        (FeatureMeans, FeatureScales) = Standardization.FeatureStatistics(features, RowCount, FeatureCount, weights, scaleIndicatorsByRange);
        (TargetMeans, TargetScales) = Standardization.ColumnStatistics(data.Targets, RowCount, TargetCount, weights);
        Targets = Standardization.Apply(data.Targets, RowCount, TargetCount, TargetMeans, TargetScales);
        _inputs = features;
    }

    public int RowCount { get; }
    /// <summary>The network's inputs: the features, and their normal scores when some are appended.</summary>
    public int FeatureCount { get; }
    public int TargetCount { get; }

    /// <summary>
    /// Standardised features, row-major n×d: (x − <see cref="FeatureMeans"/>) / <see cref="FeatureScales"/>, computed
    /// when first read, after any relevance weighting.
    /// </summary>
    public double[] Features => _features ??= StandardizeInputs();

    /// <summary>Standardised targets, row-major n×c.</summary>
    public double[] Targets { get; }

    /// <summary>Row weights divided by their mean, or null when unweighted.</summary>
    public double[]? Weights { get; }

    /// <summary>The normal scores appended to the features, or null for none.</summary>
    public NormalScores? NormalScores { get; }

    /// <summary>
    /// The inputs' relevance weights (<see cref="InputRelevance"/>), already folded into <see cref="FeatureScales"/>
    /// (and so into <see cref="Features"/>); null when none differs from 1 or <see cref="WeighInputsByRelevance"/> was not called.
    /// </summary>
    public double[]? InputWeights { get; private set; }

    /// <summary>Per-input compression scale (0: not compressed), or null when no input is compressed.</summary>
    public double[]? FeatureCompressionScales { get; }

    public double[] FeatureMeans { get; }
    public double[] FeatureScales { get; }
    public double[] TargetMeans { get; }
    public double[] TargetScales { get; }

    /// <summary>
    /// The rows of <paramref name="data"/> standardised; skewed feature columns compressed first when
    /// <paramref name="compressSkewedFeatures"/>, two-valued ones scaled by half their range when
    /// <paramref name="scaleIndicatorsByRange"/> and normal scores appended when <paramref name="appendNormalScores"/>.
    /// </summary>
    public static StandardizedRows Create(KareTrainingData data, bool compressSkewedFeatures = false, bool scaleIndicatorsByRange = false,
        bool appendNormalScores = false)
        => new(data, Standardization.NormalizedWeights(data.Weights), compressSkewedFeatures, scaleIndicatorsByRange, appendNormalScores);

    /// <summary>
    /// Multiplies the inputs that <paramref name="weighting"/> names (resolved for the row count when Automatic) by their
    /// relevance to the targets, screened on the rows of positive <paramref name="screenWeights"/> only
    /// (<see cref="FitRowSets.ScreenWeights"/>: the rows that choose the epoch and λ̃ or calibrate intervals take no part),
    /// and folds the weights into <see cref="FeatureScales"/>, so the model scores weighted inputs with no new field.
    /// Once per instance, before <see cref="Features"/> is first read.
    /// </summary>
    public void WeighInputsByRelevance(KareRelevanceWeighting weighting, double[]? screenWeights)
    {
        if (_weighed || _inputs is null)
            throw new InvalidOperationException("The inputs are weighted once, before the standardised features are read.");
        _weighed = true;
        weighting = InputRelevance.Resolve(weighting, RowCount);
        if (weighting == KareRelevanceWeighting.None)
            return;
        // The screen's bins and two-valued test do not change under standardisation, so it reads the inputs as they are.
        InputWeights = InputRelevance.Weights(_inputs, RowCount, FeatureCount, Targets, TargetCount, screenWeights,
            indicatorsOnly: weighting == KareRelevanceWeighting.Indicators);
        if (InputWeights is null)
            return;
        for (int j = 0; j < FeatureCount; j++)
            FeatureScales[j] /= InputWeights[j];
    }

    private double[] StandardizeInputs()
    {
        double[] features = Standardization.Apply(_inputs!, RowCount, FeatureCount, FeatureMeans, FeatureScales);
        _inputs = null;
        return features;
    }

    private static double[] Compress(double[] values, int rows, int columns, double[] scales)
    {
        var result = new double[values.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                long k = (long)i * columns + j;
                result[k] = FeatureCompression.Apply(values[k], scales[j]);
            }
        }
        return result;
    }

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

