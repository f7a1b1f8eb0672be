using System.Collections.Generic;
using Microsoft.ML.Kare.Scoring;

namespace Microsoft.ML.Kare;

/// <summary>
/// A trained KARE model in primal form (docs/maths.md, "Primal form"): the frozen network θ, the parameter-space KRR weights β, and the
/// standardisations. The prediction for a raw row x is labelMean + labelScale·∇θ f(z; θ)ᵀ β with z the standardised x.
/// </summary>
internal sealed class KareFitResult
{
    /// <summary>How the network was trained and how the model predicts.</summary>
    public KareMethod Method { get; init; } = KareMethod.Kare;

    public required KareNetworkArchitecture Architecture { get; init; }

    /// <summary>θ, length P, in the layout of <see cref="KareNetworkArchitecture"/>.</summary>
    public required double[] Parameters { get; init; }

    /// <summary>β, P × c (column-major: output k occupies [k·P, (k+1)·P)).</summary>
    public required double[] PrimalWeights { get; init; }

    /// <summary>
    /// The networks the model averages (an ensemble of cross-validation folds), the first being <see cref="Parameters"/>
    /// and <see cref="PrimalWeights"/>; null for one network.
    /// </summary>
    public IReadOnlyList<KareModelMember>? Members { get; init; }

    public required int OutputCount { get; init; }

    public required double[] FeatureMeans { get; init; }
    public required double[] FeatureScales { get; init; }

    /// <summary>
    /// Per network input, the compression scale s applied before the standardisation (<see cref="FeatureCompression"/>;
    /// 0: not compressed); null when no input is compressed.
    /// </summary>
    public double[]? FeatureCompressionScales { get; init; }

    /// <summary>The normal scores appended to the features (the network's inputs beyond d); null for none.</summary>
    public NormalScores? NormalScores { get; init; }

    /// <summary>The training range the standardised inputs are clipped to when scoring; null: none is clipped.</summary>
    public InputRange? InputRange { get; init; }

    /// <summary>Per-output target mean and scale (length c).</summary>
    public required double[] TargetMeans { get; init; }
    public required double[] TargetScales { get; init; }

    /// <summary>Chosen relative ridge λ̃ and the absolute λ = λ̃·Tr(K)/n² of the final fit.</summary>
    public required double RelativeRidge { get; init; }
    public required double Ridge { get; init; }

    public required int SelectedEpoch { get; init; }
    public required IReadOnlyList<KareEpochSummary> TrainingCurve { get; init; }

    /// <summary>
    /// Exact leave-one-out predictions of the final kernel ridge regression (frozen kernel and ridge) for each training
    /// row, n×c row-major in target units, NaN for rows of weight 0; null unless
    /// the fit asked for them was set.
    /// </summary>
    public double[]? LeaveOneOutPredictions { get; init; }

    /// <summary>The calibrated prediction intervals of a regression fit that asked for them; otherwise null.</summary>
    public KarePredictionInterval? PredictionInterval { get; init; }
}

/// <summary>One network of a KARE model: θ (length P) and β (P × c), in the layouts of <see cref="KareFitResult"/>.</summary>
internal sealed record KareModelMember(double[] Parameters, double[] PrimalWeights);
