using System.Collections.Generic;
using System.Collections.ObjectModel;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Kare;

/// <summary>
/// What the KARE model parameters types share: kernel ridge regression with the empirical neural tangent kernel of a
/// network whose kernel was trained with KARE, stored in primal form (θ and one parameter-space weight vector β per
/// output), scored in plain managed code.
/// </summary>
/// <typeparam name="TOutput">The type of the model's output: <see cref="float"/> for one output, a vector for several.</typeparam>
public abstract class KareModelParametersBase<TOutput> : ModelParametersBase<TOutput>
{
    private protected KareModelParametersBase(IHostEnvironment env, string name, KareFitResult result, int outputCount)
        : base(env, name)
    {
        Primal = KarePrimalModel.FromFitResult(Host, result, outputCount);
    }

    private protected KareModelParametersBase(IHostEnvironment env, string name, ModelLoadContext ctx, bool storeOutputCount)
        : base(env, name, ctx)
    {
        Primal = KarePrimalModel.Load(Host, ctx, storeOutputCount);
    }

    /// <summary>The saved state and its scorer.</summary>
    private protected KarePrimalModel Primal { get; }

    /// <summary>How the network was trained and how the model predicts (models saved before methods existed are KARE models).</summary>
    public KareMethod Method => Primal.Method;

    /// <summary>Shape of the network whose neural tangent kernel the model uses.</summary>
    public KareNetworkArchitecture Architecture => Primal.Architecture;

    /// <summary>The trained network parameters θ, in the layout described by <see cref="KareNetworkArchitecture"/>.</summary>
    public IReadOnlyList<double> NetworkParameters => new ReadOnlyCollection<double>(Primal.Parameters);

    /// <summary>
    /// The kernel ridge regression weights β in parameter space, in standardised target units: for each output, a vector
    /// of the same length and layout as <see cref="NetworkParameters"/>, outputs one after another. For the methods that
    /// predict with the (linearised) network, β = θ − θ_k is the step from the linearisation point θ_k =
    /// <see cref="NetworkParameters"/> (zero for <see cref="KareMethod.NeuralNetwork"/>), and the network's output is added.
    /// </summary>
    public IReadOnlyList<double> PrimalWeights => new ReadOnlyCollection<double>(Primal.PrimalWeights);

    /// <summary>
    /// Number of networks whose predictions the model averages: 1, or k for the fold ensemble of k-fold cross-validation
    /// (<see cref="KareCrossValidationModel.FoldEnsemble"/>). <see cref="NetworkParameters"/> and
    /// <see cref="PrimalWeights"/> are the first network's; <see cref="GetNetworkParameters"/> and
    /// <see cref="GetPrimalWeights"/> give each one's.
    /// </summary>
    public int NetworkCount => Primal.Members.Length;

    /// <summary>θ of network <paramref name="network"/> (0 … <see cref="NetworkCount"/> − 1).</summary>
    public IReadOnlyList<double> GetNetworkParameters(int network) => new ReadOnlyCollection<double>(Primal.Members[network].Parameters);

    /// <summary>β of network <paramref name="network"/> (0 … <see cref="NetworkCount"/> − 1), in the layout of <see cref="PrimalWeights"/>.</summary>
    public IReadOnlyList<double> GetPrimalWeights(int network) => new ReadOnlyCollection<double>(Primal.Members[network].PrimalWeights);

    /// <summary>
    /// The feature columns whose normal scores the network sees as further inputs, after the features themselves
    /// (KareTrainerOptionsBase.AppendNormalScores); empty when there are none. The network has
    /// <see cref="KareNetworkArchitecture.InputCount"/> = d + <see cref="NormalScoreColumns"/>.Count inputs, and
    /// <see cref="FeatureCompressionScales"/>, <see cref="FeatureMeans"/> and <see cref="FeatureScales"/> have one value
    /// per input.
    /// </summary>
    public IReadOnlyList<int> NormalScoreColumns => new ReadOnlyCollection<int>(Primal.NormalScores?.Columns ?? System.Array.Empty<int>());

    /// <summary>The normal scores themselves (knots and scores), for the project's own code and tests.</summary>
    internal Scoring.NormalScores? NormalScores => Primal.NormalScores;

    /// <summary>
    /// Per-input compression scales s: an input with s &gt; 0 is heavy-tailed and enters as sign(x)·ln(1 + |x|/s)
    /// before it is standardised; 0 leaves the input as it is (KareTrainerOptionsBase.CompressSkewedFeatures).
    /// </summary>
    public IReadOnlyList<double> FeatureCompressionScales => new ReadOnlyCollection<double>(Primal.FeatureCompressionScales);

    /// <summary>
    /// Per-input lower bounds, in standardised units (after <see cref="FeatureMeans"/> and <see cref="FeatureScales"/>), that
    /// a scored row's inputs are clipped to: the smallest value of each input over the training rows
    /// (KareTrainerOptionsBase.ClipInputsToTrainingRange); empty when the model clips no input.
    /// </summary>
    public IReadOnlyList<double> InputLowerBounds => new ReadOnlyCollection<double>(Primal.InputRange?.Lower ?? System.Array.Empty<double>());

    /// <summary>Per-input upper bounds that a scored row's inputs are clipped to, as <see cref="InputLowerBounds"/>; empty when none.</summary>
    public IReadOnlyList<double> InputUpperBounds => new ReadOnlyCollection<double>(Primal.InputRange?.Upper ?? System.Array.Empty<double>());

    /// <summary>Per-input means subtracted (after the compression of skewed inputs) before the network sees a row.</summary>
    public IReadOnlyList<double> FeatureMeans => new ReadOnlyCollection<double>(Primal.FeatureMeans);

    /// <summary>Per-input scales (positive) that centred inputs are divided by; they include the relevance weights (σ/w, <see cref="KareRelevanceWeighting"/>).</summary>
    public IReadOnlyList<double> FeatureScales => new ReadOnlyCollection<double>(Primal.FeatureScales);

    /// <summary>The chosen relative ridge λ̃: the kernel ridge regression used λ = λ̃·Tr(K)/n².</summary>
    public double RelativeRidge => Primal.RelativeRidge;

    /// <summary>The absolute ridge λ = λ̃·Tr(K)/n² of the final kernel ridge regression.</summary>
    public double Ridge => Primal.Ridge;

    /// <summary>The training epoch whose network the model uses (0 is the network at initialisation).</summary>
    public int SelectedEpoch => Primal.SelectedEpoch;

    /// <summary>KARE objective and validation error after each epoch of training.</summary>
    public IReadOnlyList<KareEpochSummary> TrainingCurve => new ReadOnlyCollection<KareEpochSummary>(Primal.TrainingCurve);
}
