using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.EntryPoints;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;

[assembly: LoadableClass(KareRegressionTrainer.Summary, typeof(KareRegressionTrainer), typeof(KareRegressionTrainer.Options),
    new[] { typeof(SignatureRegressorTrainer), typeof(SignatureTrainer) },
    KareRegressionTrainer.UserNameValue,
    KareRegressionTrainer.LoadNameValue,
    KareRegressionTrainer.ShortName)]

namespace Microsoft.ML.Kare;

/// <summary>
/// The <see cref="IEstimator{TTransformer}"/> for training a regression model with a neural tangent kernel learned by
/// minimising KARE, the kernel alignment risk estimator.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// To create this trainer, use [Kare](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.RegressionCatalog.RegressionTrainers,System.String,System.String,System.String,System.Int32,System.Double,System.Int32[]))
/// or [Kare(Options)](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.RegressionCatalog.RegressionTrainers,Microsoft.ML.Kare.KareRegressionTrainer.Options)).
///
/// ### Input and output columns
/// The input label column data must be <xref:System.Single> or <xref:System.Double>. The input features column data must
/// be a known-sized vector of <xref:System.Single>. The optional example weight column must be <xref:System.Single>.
///
/// This trainer outputs the following columns:
///
/// | Output Column Name | Column Type | Description|
/// | -- | -- | -- |
/// | `Score` | <xref:System.Single> | The unbounded score that was predicted by the model. |
/// | `LowerBound` | <xref:System.Single> | The lower end of the prediction interval (unless `PredictionIntervalCoverage` is 0). |
/// | `UpperBound` | <xref:System.Single> | The upper end of the prediction interval (unless `PredictionIntervalCoverage` is 0). |
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
/// The model is kernel ridge regression with the empirical neural tangent kernel (NTK) of a multilayer perceptron,
/// K(x, x′) = ∇θ f(x)ᵀ ∇θ f(x′). Instead of training the network to fit the labels, its parameters θ are trained so that
/// its kernel generalises: gradient descent minimises the kernel alignment risk estimator
/// ρ = (1/n)·yᵀA²y / ((1/n)·Tr A)², A = (K/n + λI)⁻¹, which equals generalised cross-validation of the kernel ridge
/// regression and estimates its out-of-sample error from training rows alone
/// (Schwab, Kelly, Malamud and Xu, "Training NTK to Generalize with KARE", 2025).
/// The ridge is relative to the kernel's size: λ = z·Tr(K)/n², with z = `TrainingRidge` during training.
///
/// After training, the network is frozen and kernel ridge regression is fitted with its kernel, the relative ridge being
/// chosen from `RidgeGrid`. With the default `RidgeSelection.Automatic`, up to 1,000 rows 5-fold cross-validation
/// trains five fold networks side by side and the model averages them; above, a `ValidationFraction` of the rows is held
/// out while the kernel trains on the rest (on at most `MaximumKernelTrainingRows` of them); the epoch and ridge with the
/// lowest held-out error are kept, and the final regression is refitted on all rows. Features and label are standardised internally, so no normalizer is needed.
///
/// The model is stored in primal form: the network parameters θ and one parameter-space weight vector β, so that a
/// prediction is one Jacobian-vector product of the network. Its size does not grow with the number of training
/// rows, and scoring runs in plain managed code without libtorch.
///
/// Training holds an n×n kernel of each mini-batch (2048 rows by default); the final fit is solved in parameter space (P×P) when there are more than 4,096 rows and more rows than network parameters, else in kernel space (n×n, at most 10,000 rows). Progress (KARE objective and held-out error per
/// epoch) is logged through the MLContext's Log event, and the options' CancellationToken stops training.
///
/// Check the See Also section for links to usage examples.
/// ]]>
/// </format>
/// </remarks>
/// <seealso cref="KareCatalog.Kare(RegressionCatalog.RegressionTrainers, string, string, string, int, double, int[])"/>
/// <seealso cref="KareCatalog.Kare(RegressionCatalog.RegressionTrainers, KareRegressionTrainer.Options)"/>
/// <seealso cref="Options"/>
public sealed class KareRegressionTrainer
    : KareTrainerBase<RegressionPredictionTransformer<KareRegressionModelParameters>, KareRegressionModelParameters, KareRegressionTrainer.Options>
{
    internal const string LoadNameValue = "KareRegression";
    internal const string UserNameValue = "KARE Neural Tangent Kernel Regression";
    internal const string ShortName = "kare";
    internal const string Summary = "Kernel ridge regression with the neural tangent kernel of a multilayer perceptron "
        + "whose kernel is trained by minimising the kernel alignment risk estimator (KARE).";

    /// <summary>
    /// Options for the <see cref="KareRegressionTrainer"/> as used in
    /// [Kare(Options)](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.RegressionCatalog.RegressionTrainers,Microsoft.ML.Kare.KareRegressionTrainer.Options)).
    /// </summary>
    public sealed class Options : KareTrainerOptionsBase
    {
        /// <summary>
        /// Coverage of the prediction intervals, between 0 and 1 (default 0.9): scoring adds the columns
        /// <c>LowerBound</c> and <c>UpperBound</c>, which hold a new row's label with this probability. 0 turns them off
        /// and leaves the output schema a single <c>Score</c>.
        /// </summary>
        /// <remarks>
        /// The intervals are conformal (<see cref="KarePredictionInterval"/>): Score ± a half-width calibrated on
        /// out-of-sample residuals. With cross-validation (the default up to 1,000 rows) the folds' held-out rows
        /// calibrate them at no cost in rows; otherwise 10% of the rows (at most 2,000) are kept out of training and
        /// selection to calibrate them, and join the final ridge regression afterwards.
        /// </remarks>
        public double PredictionIntervalCoverage = KareTrainerDefaults.PredictionIntervalCoverage;
    }

    /// <summary>
    /// Creates a <see cref="KareRegressionTrainer"/> with the key hyperparameters; the other options take their defaults.
    /// </summary>
    internal KareRegressionTrainer(IHostEnvironment env,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = KareTrainerDefaults.NumberOfEpochs,
        double learningRate = KareTrainerDefaults.LearningRate,
        int[]? hiddenLayerWidths = null)
        : this(env, KeyOptions(labelColumnName, featureColumnName, exampleWeightColumnName, numberOfEpochs, learningRate, hiddenLayerWidths))
    {
    }

    /// <summary>Creates a <see cref="KareRegressionTrainer"/> from <paramref name="options"/>, which it copies.</summary>
    internal KareRegressionTrainer(IHostEnvironment env, Options options)
        : base(env, options, LoadNameValue, TrainerUtils.MakeR4ScalarColumn)
    {
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <inheritdoc/>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
        => KareTraining.RegressionOutputColumns(intervals: TrainerOptions.PredictionIntervalCoverage > 0);

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

    private protected override KareTargetEncoding CheckLabel(RoleMappedData data)
    {
        data.CheckRegressionLabel();
        return KareTargetEncoding.Regression;
    }

    private protected override bool ComputesLeaveOneOutPredictions => false;

    private protected override KareRegressionModelParameters CreateModel(IChannel ch, KareTrainingData rows, KareFitResult result)
        => new KareRegressionModelParameters(Host, result);

    /// <inheritdoc/>
    protected override RegressionPredictionTransformer<KareRegressionModelParameters> MakeTransformer(KareRegressionModelParameters model, DataViewSchema trainSchema)
        => new RegressionPredictionTransformer<KareRegressionModelParameters>(Host, model, trainSchema, FeatureColumn.Name);

    /// <summary>Wraps model parameters (for example ones built outside a trainer) in the transformer a trainer returns.</summary>
    internal static RegressionPredictionTransformer<KareRegressionModelParameters> CreateTransformer(IHostEnvironment env,
        KareRegressionModelParameters model, DataViewSchema trainSchema, string featureColumnName)
    {
        Contracts.CheckValue(env, nameof(env));
        return new RegressionPredictionTransformer<KareRegressionModelParameters>(env, model, trainSchema, featureColumnName);
    }

    /// <summary>Maps options to the backend's settings.</summary>
    internal static KareFitSettings CreateSettings(Options options, int seed) => KareTraining.CreateSettings(options, seed);
}
