using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;

[assembly: LoadableClass(KareMulticlassTrainer.Summary, typeof(KareMulticlassTrainer), typeof(KareMulticlassTrainer.Options),
    new[] { typeof(SignatureMulticlassClassifierTrainer), typeof(SignatureTrainer) },
    KareMulticlassTrainer.UserNameValue,
    KareMulticlassTrainer.LoadNameValue,
    KareMulticlassTrainer.ShortName)]

namespace Microsoft.ML.Kare;

/// <summary>
/// The <see cref="IEstimator{TTransformer}"/> for training a multiclass classifier with a neural tangent kernel learned by
/// minimising KARE, the kernel alignment risk estimator.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// To create this trainer, use [Kare](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.MulticlassClassificationCatalog.MulticlassClassificationTrainers,System.String,System.String,System.String,System.Int32,System.Double,System.Int32[]))
/// or [Kare(Options)](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.MulticlassClassificationCatalog.MulticlassClassificationTrainers,Microsoft.ML.Kare.KareMulticlassTrainer.Options)).
///
/// ### Input and output columns
/// The input label column data must be [key](xref:Microsoft.ML.Data.KeyDataViewType) type (use
/// [MapValueToKey](xref:Microsoft.ML.ConversionsExtensionsCatalog.MapValueToKey*) on text or numeric labels), and the
/// features column must be a known-sized vector of <xref:System.Single>. The optional example weight column must be
/// <xref:System.Single>. Rows whose label is missing (key value 0) are skipped.
///
/// This trainer outputs the following columns:
///
/// | Output Column Name | Column Type | Description|
/// | -- | -- | -- |
/// | `Score` | Vector of <xref:System.Single> | The probability of each class: non-negative, summing to 1. Slot k belongs to the key value k + 1. |
/// | `PredictedLabel` | [key](xref:Microsoft.ML.Data.KeyDataViewType) type | The predicted label's index: the class with the largest score. |
///
/// ### Trainer Characteristics
/// |  |  |
/// | -- | -- |
/// | Machine learning task | Multiclass classification |
/// | Is normalization required? | No (features are standardised internally) |
/// | Is caching required? | No (the training rows are read once) |
/// | Required NuGet in addition to Microsoft.ML | Microsoft.ML.Kare (training also needs TorchSharp and a libtorch package; scoring does not) |
/// | Exportable to ONNX | Yes |
///
/// ### Training Algorithm Details
/// Each label is encoded as a ±1 one-hot target vector (+1 for its class, −1 for the others), and the model is kernel
/// ridge regression of all c targets with one shared kernel, the empirical neural tangent kernel (NTK) of a multilayer
/// perceptron, K(x, x′) = ∇θ f(x)ᵀ ∇θ f(x′), as in the classification experiments of Schwab, Kelly, Malamud and Xu
/// ("Training NTK to Generalize with KARE", 2025). The network's parameters θ are trained so that its kernel
/// generalises: gradient descent minimises the kernel alignment risk estimator averaged over the c targets,
/// ρ = (1/n)·Σ_k y_kᵀA²y_k / (c·((1/n)·Tr A)²), A = (K/n + λI)⁻¹, with the relative ridge λ = z·Tr(K)/n²
/// (z = `TrainingRidge`). The relative ridge and epoch of the final regression are chosen as `RidgeSelection` says.
///
/// The class scores are a softmax of the regression outputs f_k(x): score_k = exp(T·f_k) / Σ_j exp(T·f_j). The one
/// temperature T is fitted by maximum likelihood on the exact leave-one-out outputs of the final regression (each
/// training row scored by the regression fitted on the other rows), with Platt's prior correction of the targets, so
/// the scores are calibrated probabilities and the log-loss of a prediction is finite. The predicted class, the largest
/// score, is the class whose regression output is largest.
///
/// The model is stored in primal form (network parameters θ and one parameter-space weight vector β per class), so a
/// prediction is c Jacobian-vector products of the network computed in plain managed code, and the model's size does
/// not grow with the number of training rows. Training holds an n×n kernel of each mini-batch (2048 rows by default); the final fit is solved in parameter space (P×P) when there are more than 4,096 rows and more rows than network parameters, else in kernel space (n×n, at most 10,000 rows).
/// Progress is logged through the MLContext's Log event, and the options' CancellationToken stops training.
///
/// Check the See Also section for links to usage examples.
/// ]]>
/// </format>
/// </remarks>
/// <seealso cref="KareCatalog.Kare(MulticlassClassificationCatalog.MulticlassClassificationTrainers, string, string, string, int, double, int[])"/>
/// <seealso cref="KareCatalog.Kare(MulticlassClassificationCatalog.MulticlassClassificationTrainers, KareMulticlassTrainer.Options)"/>
/// <seealso cref="Options"/>
public sealed class KareMulticlassTrainer
    : KareTrainerBase<MulticlassPredictionTransformer<KareMulticlassModelParameters>, KareMulticlassModelParameters, KareMulticlassTrainer.Options>
{
    internal const string LoadNameValue = "KareMulticlassClassification";
    internal const string UserNameValue = "KARE Neural Tangent Kernel Multiclass Classification";
    internal const string ShortName = "karemc";
    internal const string Summary = "Multiclass classification by kernel ridge regression of ±1 one-hot labels with the neural tangent kernel of a "
        + "multilayer perceptron whose kernel is trained by minimising the kernel alignment risk estimator (KARE), with a calibrated softmax.";

    /// <summary>
    /// Options for the <see cref="KareMulticlassTrainer"/> as used in
    /// [Kare(Options)](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.MulticlassClassificationCatalog.MulticlassClassificationTrainers,Microsoft.ML.Kare.KareMulticlassTrainer.Options)).
    /// </summary>
    public sealed class Options : KareTrainerOptionsBase
    {
    }

    /// <summary>
    /// Creates a <see cref="KareMulticlassTrainer"/> with the key hyperparameters; the other options take their defaults.
    /// </summary>
    internal KareMulticlassTrainer(IHostEnvironment env,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = KareTrainerDefaults.NumberOfEpochs,
        double learningRate = KareTrainerDefaults.LearningRate,
        int[]? hiddenLayerWidths = null)
        : this(env, KeyOptions(labelColumnName, featureColumnName, exampleWeightColumnName, numberOfEpochs, learningRate, hiddenLayerWidths))
    {
    }

    /// <summary>Creates a <see cref="KareMulticlassTrainer"/> from <paramref name="options"/>, which it copies.</summary>
    internal KareMulticlassTrainer(IHostEnvironment env, Options options)
        : base(env, options, LoadNameValue, TrainerUtils.MakeU4ScalarColumn)
    {
        Host.CheckUserArg(!options.Method.TrainsByMeanSquaredError(), nameof(options.Method),
            "The other methods train the network's single output by mean squared error; multiclass classification supports Kare and NtkAtInitialization.");
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

    /// <inheritdoc/>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
    {
        bool found = inputSchema.TryFindColumn(LabelColumn.Name, out SchemaShape.Column labelCol);
        Host.Assert(found);
        var keyValues = new SchemaShape(labelCol.Annotations.Where(x => x.Name == AnnotationUtils.Kinds.KeyValues)
            .Concat(AnnotationUtils.GetTrainerOutputAnnotation()));
        return new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(labelCol))),
            new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, keyValues),
        };
    }

    /// <summary>The label is a key of at least two classes; each becomes a ±1 one-hot target.</summary>
    private protected override KareTargetEncoding CheckLabel(RoleMappedData data)
    {
        data.CheckMulticlassLabel(out int classCount);
        if (classCount < 2)
            throw Host.Except($"The label column '{data.Schema.Label!.Value.Name}' has {classCount} possible value(s); multiclass classification needs at least two classes.");
        return KareTargetEncoding.OneHot(classCount);
    }

    /// <summary>At least two classes must have usable rows; classes without any are reported.</summary>
    private protected override void CheckRows(IChannel ch, RoleMappedData data, KareTrainingData rows)
    {
        string labelName = data.Schema.Label!.Value.Name;
        int classCount = rows.TargetCount;
        int present = KareTargetEncoding.CountClasses(rows.Targets, rows.RowCount, classCount, rows.Weights);
        if (present < 2)
            throw ch.Except($"The label column '{labelName}' has only one class among the usable training rows; multiclass classification needs rows of at least two classes.");
        if (present < classCount)
            ch.Warning($"{classCount - present} of the {classCount} classes of the label column '{labelName}' have no training rows; they get low scores.");
    }

    /// <summary>The softmax temperature is fitted on the leave-one-out outputs.</summary>
    private protected override bool ComputesLeaveOneOutPredictions => true;

    private protected override KareMulticlassModelParameters CreateModel(IChannel ch, KareTrainingData rows, KareFitResult result)
    {
        ch.Check(result.LeaveOneOutPredictions is { } loo && loo.Length == rows.Targets.Length, "The backend returned no leave-one-out outputs.");
        double temperature = SoftmaxTemperature.Fit(result.LeaveOneOutPredictions!, rows.Targets, rows.RowCount, rows.TargetCount, rows.Weights);
        ch.Info($"Softmax temperature fitted on leave-one-out outputs: T = {temperature:G4}.");
        return new KareMulticlassModelParameters(Host, result, temperature);
    }

    /// <inheritdoc/>
    protected override MulticlassPredictionTransformer<KareMulticlassModelParameters> MakeTransformer(KareMulticlassModelParameters model, DataViewSchema trainSchema)
        => new MulticlassPredictionTransformer<KareMulticlassModelParameters>(Host, model, trainSchema, FeatureColumn.Name, LabelColumn.Name);
}
