using System.Collections.Generic;

namespace Microsoft.ML.Kare;

/// <summary>A trained mean-field two-layer network and the standardisations it was trained under.</summary>
internal sealed class MeanFieldFitResult
{
    public required int InputCount { get; init; }
    public required int ParticleCount { get; init; }
    public required KareActivation Activation { get; init; }

    /// <summary>W, m×(d+1) row-major: particle j's weights on the standardised features, then its bias.</summary>
    public required double[] FirstLayer { get; init; }

    /// <summary>a, length m: the exact ridge solution for the final W on the (noise-free) training targets.</summary>
    public required double[] SecondLayer { get; init; }

    public required double[] FeatureMeans { get; init; }
    public required double[] FeatureScales { get; init; }
    public required double LabelMean { get; init; }
    public required double LabelScale { get; init; }
    public required IReadOnlyList<MeanFieldStepSummary> TrainingCurve { get; init; }
}
