using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;

[assembly: LoadableClass(KareBinaryTrainer.Summary, typeof(KareBinaryTrainer), typeof(KareBinaryTrainer.Options),
    new[] { typeof(SignatureBinaryClassifierTrainer), typeof(SignatureTrainer) },
    KareBinaryTrainer.UserNameValue,
    KareBinaryTrainer.LoadNameValue,
    KareBinaryTrainer.ShortName)]

namespace Microsoft.ML.Kare;

/// <summary>
/// The <see cref="IEstimator{TTransformer}"/> for training a binary classifier with a neural tangent kernel learned by
/// minimising KARE, the kernel alignment risk estimator.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// To create this trainer, use [Kare](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.BinaryClassificationCatalog.BinaryClassificationTrainers,System.String,System.String,System.String,System.Int32,System.Double,System.Int32[]))
/// or [Kare(Options)](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.BinaryClassificationCatalog.BinaryClassificationTrainers,Microsoft.ML.Kare.KareBinaryTrainer.Options)).
///
/// ### Input and output columns
/// The input label column data must be <xref:System.Boolean>. The input features column data must be a known-sized
/// vector of <xref:System.Single>. The optional example weight column must be <xref:System.Single>.
///
/// This trainer outputs the following columns:
///
/// | Output Column Name | Column Type | Description|
/// | -- | -- | -- |
/// | `Score` | <xref:System.Single> | The unbounded score that was calculated by the model: the kernel ridge regression's estimate of the ±1 label (positive for `true`). |
/// | `PredictedLabel` | <xref:System.Boolean> | The predicted label, based on the sign of the score. A negative score maps to `false` and a positive score maps to `true`. |
/// | `Probability` | <xref:System.Single> | The probability of the label being `true`, from a Platt calibrator fitted on the model's leave-one-out scores of the training rows. |
///
/// ### Trainer Characteristics
/// |  |  |
/// | -- | -- |
/// | Machine learning task | Binary classification |
/// | Is normalization required? | No (features are standardised internally) |
/// | Is caching required? | No (the training rows are read once) |
/// | Required NuGet in addition to Microsoft.ML | Microsoft.ML.Kare (training also needs TorchSharp and a libtorch package; scoring does not) |
/// | Exportable to ONNX | Yes |
///
/// ### Training Algorithm Details
/// The label is encoded as a target y = +1 (`true`) or −1 (`false`), and the model is kernel ridge regression of y with
/// the empirical neural tangent kernel (NTK) of a multilayer perceptron, K(x, x′) = ∇θ f(x)ᵀ ∇θ f(x′), as in the
/// classification experiments of Schwab, Kelly, Malamud and Xu ("Training NTK to Generalize with KARE", 2025).
/// The network's parameters θ are trained so that its kernel generalises: gradient descent minimises the kernel
/// alignment risk estimator ρ = (1/n)·yᵀA²y / ((1/n)·Tr A)², A = (K/n + λI)⁻¹, an estimate of the regression's
/// out-of-sample error from the training rows alone. The ridge is relative to the kernel's size: λ = z·Tr(K)/n², with
/// z = `TrainingRidge` during training.
///
/// After training, the network is frozen and the regression is fitted with its kernel, the relative ridge and the
/// epoch being chosen as `RidgeSelection` says (by default by 5-fold cross-validation up to 1,000 rows, the model
/// averaging the fold networks, and above on a held-out `ValidationFraction` of the rows, then refitted on all rows). The probability comes from a Platt calibrator, P(true) = 1 / (1 + exp(a·score + b)), fitted on the
/// exact leave-one-out scores of the final regression (each training row scored by the regression fitted on the
/// other rows), which are far less optimistic than the training scores.
///
/// The model is stored in primal form (network parameters θ and one parameter-space weight vector β), so a prediction
/// is one Jacobian-vector product of the network computed in plain managed code, and the model's size does not grow
/// with the number of training rows. Training holds an n×n kernel of each mini-batch (2048 rows by default); the final fit is solved in parameter space (P×P) when there are more than 4,096 rows and more rows than network parameters, else in kernel space (n×n, at most 10,000 rows). Progress is
/// logged through the MLContext's Log event, and the options' CancellationToken stops training.
///
/// Check the See Also section for links to usage examples.
/// ]]>
/// </format>
/// </remarks>
/// <seealso cref="KareCatalog.Kare(BinaryClassificationCatalog.BinaryClassificationTrainers, string, string, string, int, double, int[])"/>
/// <seealso cref="KareCatalog.Kare(BinaryClassificationCatalog.BinaryClassificationTrainers, KareBinaryTrainer.Options)"/>
/// <seealso cref="Options"/>
public sealed class KareBinaryTrainer : KareTrainerBase<BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>,
    CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>, KareBinaryTrainer.Options>
{
    internal const string LoadNameValue = "KareBinaryClassification";
    internal const string UserNameValue = "KARE Neural Tangent Kernel Binary Classification";
    internal const string ShortName = "karebin";
    internal const string Summary = "Binary classification by kernel ridge regression of ±1 labels with the neural tangent kernel of a "
        + "multilayer perceptron whose kernel is trained by minimising the kernel alignment risk estimator (KARE), with Platt calibration.";

    /// <summary>
    /// Options for the <see cref="KareBinaryTrainer"/> as used in
    /// [Kare(Options)](xref:Microsoft.ML.KareCatalog.Kare(Microsoft.ML.BinaryClassificationCatalog.BinaryClassificationTrainers,Microsoft.ML.Kare.KareBinaryTrainer.Options)).
    /// </summary>
    public sealed class Options : KareTrainerOptionsBase
    {
    }

    /// <summary>
    /// Creates a <see cref="KareBinaryTrainer"/> with the key hyperparameters; the other options take their defaults.
    /// </summary>
    internal KareBinaryTrainer(IHostEnvironment env,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = KareTrainerDefaults.NumberOfEpochs,
        double learningRate = KareTrainerDefaults.LearningRate,
        int[]? hiddenLayerWidths = null)
        : this(env, KeyOptions(labelColumnName, featureColumnName, exampleWeightColumnName, numberOfEpochs, learningRate, hiddenLayerWidths))
    {
    }

    /// <summary>Creates a <see cref="KareBinaryTrainer"/> from <paramref name="options"/>, which it copies.</summary>
    internal KareBinaryTrainer(IHostEnvironment env, Options options)
        : base(env, options, LoadNameValue, TrainerUtils.MakeBoolScalarLabel)
    {
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

    /// <inheritdoc/>
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
    {
        return new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
            new SchemaShape.Column(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(true))),
            new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false,
                new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        };
    }

    private protected override KareTargetEncoding CheckLabel(RoleMappedData data)
    {
        data.CheckBinaryLabel();
        return KareTargetEncoding.Binary;
    }

    /// <summary>Both classes must have usable rows.</summary>
    private protected override void CheckRows(IChannel ch, RoleMappedData data, KareTrainingData rows)
    {
        if (KareTargetEncoding.CountClasses(rows.Targets, rows.RowCount, 1, rows.Weights) < 2)
        {
            string only = rows.Targets[0] > 0 ? "true" : "false";
            throw ch.Except($"The label column '{data.Schema.Label!.Value.Name}' has only one class ({only}) among the usable training rows; "
                + "binary classification needs rows of both classes.");
        }
    }

    /// <summary>The calibrator is fitted on the leave-one-out scores.</summary>
    private protected override bool ComputesLeaveOneOutPredictions => true;

    private protected override CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator> CreateModel(IChannel ch, KareTrainingData rows, KareFitResult result)
    {
        var model = new KareBinaryModelParameters(Host, result);
        PlattCalibrator calibrator = TrainCalibrator(ch, rows, result);
        ch.Info($"Platt calibration on leave-one-out scores: P(true) = 1/(1 + exp({calibrator.Slope:G4}·score + {calibrator.Offset:G4})).");
        return new ValueMapperCalibratedModelParameters<KareBinaryModelParameters, PlattCalibrator>(Host, model, calibrator);
    }

    /// <summary>Fits a Platt calibrator on the final regression's leave-one-out scores of the training rows.</summary>
    private PlattCalibrator TrainCalibrator(IChannel ch, KareTrainingData rows, KareFitResult result)
    {
        ch.Check(result.LeaveOneOutPredictions is { } loo && loo.Length == rows.RowCount, "The backend returned no leave-one-out scores.");
        ICalibratorTrainer trainer = new PlattCalibratorTrainer(Host);
        double[] scores = result.LeaveOneOutPredictions!;
        for (int i = 0; i < rows.RowCount; i++)
            trainer.ProcessTrainingExample((float)scores[i], rows.Targets[i] > 0, (float)(rows.Weights?[i] ?? 1.0));
        return (PlattCalibrator)trainer.FinishTraining(ch);
    }

    /// <inheritdoc/>
    protected override BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>> MakeTransformer(
        CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator> model, DataViewSchema trainSchema)
        => new BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>(Host, model, trainSchema, FeatureColumn.Name);

    /// <summary>Wraps model parameters and a calibrator (for example ones built outside a trainer) in the transformer a trainer returns.</summary>
    internal static BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>> CreateTransformer(
        IHostEnvironment env, KareBinaryModelParameters model, PlattCalibrator calibrator, DataViewSchema trainSchema, string featureColumnName)
    {
        Contracts.CheckValue(env, nameof(env));
        var calibrated = new ValueMapperCalibratedModelParameters<KareBinaryModelParameters, PlattCalibrator>(env, model, calibrator);
        return new BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>(env, calibrated, trainSchema, featureColumnName);
    }
}
