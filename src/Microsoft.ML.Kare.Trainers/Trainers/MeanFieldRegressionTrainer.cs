using System.Threading;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.EntryPoints;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;

[assembly: LoadableClass(MeanFieldRegressionTrainer.Summary, typeof(MeanFieldRegressionTrainer), typeof(MeanFieldRegressionTrainer.Options),
    new[] { typeof(SignatureRegressorTrainer), typeof(SignatureTrainer) },
    MeanFieldRegressionTrainer.UserNameValue,
    MeanFieldRegressionTrainer.LoadNameValue,
    MeanFieldRegressionTrainer.ShortName)]

namespace Microsoft.ML.Kare;

/// <summary>
/// The <see cref="IEstimator{TTransformer}"/> for training a regression model with a mean-field two-layer network whose
/// second layer is solved exactly by ridge regression at every step while its first layer moves by mean-field Langevin
/// dynamics (the two-timescale limit of Takakura and Suzuki).
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// To create this trainer, use [MeanFieldTwoTimescale](xref:Microsoft.ML.MeanFieldCatalog.MeanFieldTwoTimescale(Microsoft.ML.RegressionCatalog.RegressionTrainers,System.String,System.String,System.Int32,System.Int32,System.Double))
/// or [MeanFieldTwoTimescale(Options)](xref:Microsoft.ML.MeanFieldCatalog.MeanFieldTwoTimescale(Microsoft.ML.RegressionCatalog.RegressionTrainers,Microsoft.ML.Kare.MeanFieldRegressionTrainer.Options)).
///
/// ### Input and output columns
/// The input label column data must be <xref:System.Single> or <xref:System.Double>. The input features column data must
/// be a known-sized vector of <xref:System.Single>.
///
/// This trainer outputs the following columns:
///
/// | Output Column Name | Column Type | Description|
/// | -- | -- | -- |
/// | `Score` | <xref:System.Single> | The unbounded score that was predicted by the model. |
///
/// ### Trainer Characteristics
/// |  |  |
/// | -- | -- |
/// | Machine learning task | Regression |
/// | Is normalization required? | No (features and label are standardised internally) |
/// | Is caching required? | No (the training rows are read once) |
/// | Required NuGet in addition to Microsoft.ML | Microsoft.ML.Kare (training also needs TorchSharp and a libtorch package; scoring does not) |
/// | Exportable to ONNX | Yes |
///
/// ### Training Algorithm Details
/// The model is a two-layer network with m hidden units ("particles"), f(x) = (1/m)·Σ_j a_j σ(w_j·x + b_j), in the
/// mean-field scaling. Training minimises J = (1/2n)·Σ_i (f(x_i) − y_i)² + (λ_a/2m)·Σ_j a_j² + (λ_w/2m)·Σ_j ‖(w_j, b_j)‖²
/// on two timescales (Takakura and Suzuki, "Mean-field analysis on two-layer neural networks from a kernel perspective",
/// ICML 2024). The second layer is fast: at every step it is solved exactly, which is kernel ridge regression with the
/// network's own kernel K(x, x′) = (1/m)·Σ_j σ(w_j·x + b_j)σ(w_j·x′ + b_j) and ridge λ_a = `SecondLayerRidge`.
/// The first layer is slow: every particle takes a step of mean-field Langevin dynamics,
/// w ← w − η(∇_w δG/δμ(w) + λ_w w) + √(2λη)·ξ, with η = `StepSize`, λ_w = `FirstLayerWeightDecay`,
/// temperature λ = `Temperature` and ξ standard Gaussian noise, for `NumberOfSteps` steps. The particles thereby learn
/// a kernel adapted to the target (feature learning), unlike the neural tangent kernel at initialisation.
/// With `LabelNoise` above zero, fresh Gaussian noise of that standard deviation is added to the standardised labels
/// at every step, which the paper shows acts as a regulariser of the kernel's degrees of freedom.
///
/// Features and label are standardised internally, so the hyperparameters are in units of the standardised label
/// (η, λ and λ_w default to the paper's values for its unit-variance target; λ_a defaults to 0.001, because the paper's
/// 0.25 learns nothing under this objective's scaling). Each step costs about n·m·(d + min(n, m)) operations;
/// the second layer is solved as an n×n system when n ≤ m, else as an m×m system. Progress (objective and training
/// error) is logged through the MLContext's Log event, and the options' CancellationToken stops training.
///
/// Check the See Also section for links to usage examples.
/// ]]>
/// </format>
/// </remarks>
/// <seealso cref="MeanFieldCatalog.MeanFieldTwoTimescale(RegressionCatalog.RegressionTrainers, string, string, int, int, double)"/>
/// <seealso cref="MeanFieldCatalog.MeanFieldTwoTimescale(RegressionCatalog.RegressionTrainers, MeanFieldRegressionTrainer.Options)"/>
/// <seealso cref="Options"/>
public sealed class MeanFieldRegressionTrainer : TrainerEstimatorBase<RegressionPredictionTransformer<MeanFieldModelParameters>, MeanFieldModelParameters>
{
    internal const string LoadNameValue = "MeanFieldTwoTimescaleRegression";
    internal const string UserNameValue = "Mean-Field Two-Timescale Regression";
    internal const string ShortName = "mftt";
    internal const string Summary = "A two-layer network in the mean-field scaling whose second layer is solved exactly by ridge regression "
        + "at every step while its first layer moves by mean-field Langevin dynamics.";

    /// <summary>
    /// Options for the <see cref="MeanFieldRegressionTrainer"/> as used in
    /// [MeanFieldTwoTimescale(Options)](xref:Microsoft.ML.MeanFieldCatalog.MeanFieldTwoTimescale(Microsoft.ML.RegressionCatalog.RegressionTrainers,Microsoft.ML.Kare.MeanFieldRegressionTrainer.Options)).
    /// </summary>
    public sealed class Options : TrainerInputBaseWithLabel
    {
        /// <summary>Number of particles m (hidden units). The paper uses 2000; each step's cost grows with m.</summary>
        public int NumberOfParticles = Defaults.NumberOfParticles;

        /// <summary>Number of mean-field Langevin steps T of the first layer (the paper runs 10,000).</summary>
        public int NumberOfSteps = Defaults.NumberOfSteps;

        /// <summary>Step size η of the mean-field Langevin dynamics.</summary>
        public double StepSize = Defaults.StepSize;

        /// <summary>
        /// Temperature λ of the Langevin dynamics: every step adds √(2λη)·ξ, ξ ~ N(0, I), to every particle. 0 turns the
        /// dynamics into plain (noiseless) gradient descent of the first layer.
        /// </summary>
        public double Temperature = Defaults.Temperature;

        /// <summary>Weight decay λ_w of the first layer (weights and biases of the particles).</summary>
        public double FirstLayerWeightDecay = Defaults.FirstLayerWeightDecay;

        /// <summary>
        /// Ridge λ_a of the second layer, solved exactly at every step: kernel ridge regression f̂ = K(K + nλ_a I)⁻¹y with the
        /// network's kernel K(x, x′) = (1/m)·Σ_j σ_j(x)σ_j(x′) (at most 1 on the diagonal for tanh), on the standardised
        /// label. Larger values shrink the fit and, through it, the force that moves the particles.
        /// </summary>
        public double SecondLayerRidge = Defaults.SecondLayerRidge;

        /// <summary>
        /// Standard deviation (in units of the standardised label) of fresh Gaussian noise added to the labels at every
        /// training step; 0 (the default) adds none.
        /// </summary>
        public double LabelNoise = Defaults.LabelNoise;

        /// <summary>The activation σ of the hidden units.</summary>
        public KareActivation Activation = Defaults.Activation;

        /// <summary>Seed of the initial particles and the Langevin and label noise; null takes one from the MLContext's random source.</summary>
        public int? Seed;

        /// <summary>Number of threads libtorch may use for training (process-wide, restored when the fit ends); null uses its default.</summary>
        public int? NumberOfThreads;

        /// <summary>Receives the objective and training error at 101 evenly spaced steps of training; null for none.</summary>
        public IProgress<MeanFieldStepSummary>? Progress;

        /// <summary>Cancels training: Fit then throws <see cref="OperationCanceledException"/> within one step.</summary>
        public CancellationToken CancellationToken;
    }

    /// <summary>Default values shared by <see cref="Options"/> and the <see cref="MeanFieldCatalog"/> overloads.</summary>
    internal static class Defaults
    {
        // Half the paper's width and a fifth of its steps: the x1·x2 experiment still learns its feature at this size
        // (examples/MeanField.XorProduct) and a fit on a few hundred rows takes tens of seconds instead of minutes.
        public const int NumberOfParticles = 1000;
        public const int NumberOfSteps = 2000;

        // The paper's values (Takakura and Suzuki, x1·x2 experiment), for a unit-variance target.
        public const double StepSize = 0.2;
        public const double Temperature = 0.004;
        public const double FirstLayerWeightDecay = 0.25;

        // Not the paper's 0.25: with this objective's scaling (½-squared loss, 1/m penalties, tanh) a ridge of 0.25
        // shrinks the fit so much that the force on the particles loses to the weight decay and they collapse to the
        // prior (measured on x1·x2, 300 rows, 500 particles, 1000 steps: test MSE 1.058, the zero predictor's 1.058).
        // 0.001 learns the feature (test MSE 0.25, 55% of the input weight on x1 and x2 against 13% at random).
        public const double SecondLayerRidge = 0.001;
        public const double LabelNoise = 0;
        public const KareActivation Activation = KareActivation.Tanh;
    }

    private readonly Options _options;

    /// <summary>Creates a <see cref="MeanFieldRegressionTrainer"/> with the key hyperparameters; the other options take their defaults.</summary>
    internal MeanFieldRegressionTrainer(IHostEnvironment env,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        int numberOfParticles = Defaults.NumberOfParticles,
        int numberOfSteps = Defaults.NumberOfSteps,
        double stepSize = Defaults.StepSize)
        : this(env, new Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            NumberOfParticles = numberOfParticles,
            NumberOfSteps = numberOfSteps,
            StepSize = stepSize,
        })
    {
    }

    /// <summary>Creates a <see cref="MeanFieldRegressionTrainer"/> from <paramref name="options"/>, which it copies.</summary>
    internal MeanFieldRegressionTrainer(IHostEnvironment env, Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(LoadNameValue),
            TrainerUtils.MakeR4VecFeature(KareTraining.CheckColumnOptions(env, options).FeatureColumnName),
            TrainerUtils.MakeR4ScalarColumn(options.LabelColumnName))
    {
        CheckOptions(Host, options);
        _options = Copy(options);
    }

    /// <summary>Normalization is not needed: the trainer standardises features and label itself; it reads the data once.</summary>
    public override TrainerInfo Info { get; } = new TrainerInfo(normalization: false, caching: false);

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <inheritdoc/>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
    {
        return new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        };
    }

    /// <summary>
    /// Accepts a scalar label of type <see cref="float"/>, as ML.NET's regression trainers and evaluator do; a
    /// <see cref="double"/> label is refused here, at Fit, rather than by the evaluator after training.
    /// </summary>
    protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
    {
        Host.CheckParam(labelCol.IsValid, nameof(labelCol), "not initialized properly");
        if (labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || labelCol.ItemType != NumberDataViewType.Single)
        {
            throw Host.ExceptSchemaMismatch(nameof(labelCol), "label", LabelColumn.Name, "Single", labelCol.GetTypeString()
                + (labelCol.ItemType == NumberDataViewType.Double ? " (convert it with mlContext.Transforms.Conversion.ConvertType(\"" + LabelColumn.Name + "\", outputKind: DataKind.Single))" : ""));
        }
    }

    /// <inheritdoc/>
    protected override MeanFieldModelParameters TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        RoleMappedData data = context.TrainingSet;
        data.CheckRegressionLabel();
        data.CheckFeatureFloatVector(out int featureCount);

        using IChannel ch = Host.Start("Training");
        KareTrainingData rows = KareTraining.ReadRows(Host, ch, data, featureCount, KareTargetEncoding.Regression);
        if (rows.RowCount < 2)
            throw ch.Except($"The mean-field trainer needs at least 2 usable training rows, got {rows.RowCount}.");
        MeanFieldSettings settings = CreateSettings(_options, _options.Seed ?? Host.Rand.Next());
        MeanFieldFitResult result;
        using (IProgressChannel pch = Host.StartProgressChannel("Training mean-field two-timescale network"))
        {
            var monitor = new ChannelMonitor<MeanFieldStepSummary>(Host, ch, pch, StepFormat, _options.Progress, _options.CancellationToken);
            result = MeanFieldTwoTimescale.Fit(rows, settings, monitor);
        }
        return new MeanFieldModelParameters(Host, result);
    }

    /// <inheritdoc/>
    protected override RegressionPredictionTransformer<MeanFieldModelParameters> MakeTransformer(MeanFieldModelParameters model, DataViewSchema trainSchema)
        => new RegressionPredictionTransformer<MeanFieldModelParameters>(Host, model, trainSchema, FeatureColumn.Name);

    /// <summary>Maps options to the backend's settings.</summary>
    internal static MeanFieldSettings CreateSettings(Options options, int seed) => new MeanFieldSettings
    {
        ParticleCount = options.NumberOfParticles,
        StepCount = options.NumberOfSteps,
        StepSize = options.StepSize,
        Temperature = options.Temperature,
        FirstLayerWeightDecay = options.FirstLayerWeightDecay,
        SecondLayerRidge = options.SecondLayerRidge,
        LabelNoise = options.LabelNoise,
        Activation = options.Activation,
        Seed = seed,
        ThreadCount = options.NumberOfThreads ?? 0,
    };

    /// <summary>Checks every training option (one line per option), naming the option on failure.</summary>
    private static void CheckOptions(IHost host, Options options)
    {
        host.CheckUserArg(options.NumberOfParticles > 0, nameof(options.NumberOfParticles), "Must be positive.");
        host.CheckUserArg(options.NumberOfSteps >= 0, nameof(options.NumberOfSteps), "Must be non-negative (0 keeps the particles at initialisation).");
        host.CheckUserArg(options.StepSize > 0 && double.IsFinite(options.StepSize), nameof(options.StepSize), "Must be a positive finite number.");
        host.CheckUserArg(options.Temperature >= 0 && double.IsFinite(options.Temperature), nameof(options.Temperature), "Must be a non-negative finite number (0 for noiseless dynamics).");
        host.CheckUserArg(options.FirstLayerWeightDecay >= 0 && double.IsFinite(options.FirstLayerWeightDecay), nameof(options.FirstLayerWeightDecay), "Must be a non-negative finite number.");
        host.CheckUserArg(options.SecondLayerRidge > 0 && double.IsFinite(options.SecondLayerRidge), nameof(options.SecondLayerRidge), "Must be a positive finite number.");
        host.CheckUserArg(options.LabelNoise >= 0 && double.IsFinite(options.LabelNoise), nameof(options.LabelNoise), "Must be a non-negative finite number (0 for none).");
        host.CheckUserArg(Enum.IsDefined(options.Activation), nameof(options.Activation), "Must be a defined KareActivation value.");
        host.CheckUserArg(options.NumberOfThreads is null || options.NumberOfThreads > 0, nameof(options.NumberOfThreads), "Must be positive, or null for libtorch's default.");
    }

    /// <summary>A copy, so that later changes to the caller's options do not change the trainer.</summary>
    private static Options Copy(Options options) => new()
    {
        LabelColumnName = options.LabelColumnName,
        FeatureColumnName = options.FeatureColumnName,
        NumberOfParticles = options.NumberOfParticles,
        NumberOfSteps = options.NumberOfSteps,
        StepSize = options.StepSize,
        Temperature = options.Temperature,
        FirstLayerWeightDecay = options.FirstLayerWeightDecay,
        SecondLayerRidge = options.SecondLayerRidge,
        LabelNoise = options.LabelNoise,
        Activation = options.Activation,
        Seed = options.Seed,
        NumberOfThreads = options.NumberOfThreads,
        Progress = options.Progress,
        CancellationToken = options.CancellationToken,
    };

    /// <summary>How mean-field steps appear in the progress channel and log.</summary>
    private static readonly ProgressFormat<MeanFieldStepSummary> StepFormat = new(
        new[] { "Objective", "Training MSE" }, "steps", summary => summary.Step,
        summary => new[] { summary.Objective, summary.TrainingError },
        (summary, total) => $"Step {summary.Step}/{total}: objective {summary.Objective:G6}, training MSE (standardised) {summary.TrainingError:G6}");
}
