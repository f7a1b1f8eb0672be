using System;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.EntryPoints;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Backend;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

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
///
/// ### Trainer Characteristics
/// |  |  |
/// | -- | -- |
/// | Machine learning task | Regression |
/// | Is normalization required? | No (features and label are standardised internally) |
/// | Is caching required? | No (the training rows are read once) |
/// | Required NuGet in addition to Microsoft.ML | Microsoft.ML.Kare (training also needs TorchSharp and a libtorch package; scoring does not) |
/// | Exportable to ONNX | No |
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
/// chosen from `RidgeGrid`. With the default `RidgeSelection.HoldOut`, a `ValidationFraction` of the rows is held out
/// while the kernel trains on the rest; the epoch and ridge with the lowest held-out error are kept, and the final
/// regression is refitted on all rows. Features and label are standardised internally, so no normalizer is needed.
///
/// The model is stored in primal form: the network parameters θ and one parameter-space weight vector β, so that a
/// prediction is one Jacobian-vector product of the network. Its size does not grow with the number of training
/// rows, and scoring runs in plain managed code without libtorch.
///
/// Training holds an n×n kernel, so it suits up to a few thousand rows. Progress (KARE objective and held-out error per
/// epoch) is logged through the MLContext's Log event, and MLContext.CancelExecution stops training.
///
/// Check the See Also section for links to usage examples.
/// ]]>
/// </format>
/// </remarks>
/// <seealso cref="KareCatalog.Kare(RegressionCatalog.RegressionTrainers, string, string, string, int, double, int[])"/>
/// <seealso cref="KareCatalog.Kare(RegressionCatalog.RegressionTrainers, KareRegressionTrainer.Options)"/>
/// <seealso cref="Options"/>
public sealed class KareRegressionTrainer : TrainerEstimatorBase<RegressionPredictionTransformer<KareRegressionModelParameters>, KareRegressionModelParameters>
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
    public sealed class Options : TrainerInputBaseWithWeight
    {
        /// <summary>
        /// Width of each hidden layer of the network whose kernel is trained, input side first. At least one layer.
        /// </summary>
        public int[] HiddenLayerWidths = Defaults.CreateHiddenLayerWidths();

        /// <summary>The nonlinearity after each hidden layer.</summary>
        public KareActivation Activation = Defaults.Activation;

        /// <summary>Number of passes of KARE training over the training rows. 0 uses the kernel of the network at initialisation.</summary>
        public int NumberOfEpochs = Defaults.NumberOfEpochs;

        /// <summary>
        /// Step size of the optimiser that minimises KARE. The default 20 is plain gradient descent's step on the
        /// standardised label; it equals the KARE paper's step of 100 on its unstandardised simulation targets (variance ≈ 0.2).
        /// </summary>
        public double LearningRate = Defaults.LearningRate;

        /// <summary>The optimiser that minimises KARE.</summary>
        public KareOptimizer Optimizer = Defaults.Optimizer;

        /// <summary>
        /// Rows per KARE step. 0 (the default) uses all training rows in every step (full batch, as the paper does) up to
        /// 2048 rows, and mini-batches of 2048 rows above that.
        /// </summary>
        public int BatchSize = Defaults.BatchSize;

        /// <summary>
        /// The relative ridge z of the KARE objective during training. It is relative to the kernel's size: the absolute
        /// ridge is λ = z·Tr(K)/n².
        /// </summary>
        public double TrainingRidge = Defaults.TrainingRidge;

        /// <summary>
        /// Relative ridges λ̃ tried by the final kernel ridge regression (absolute ridge λ = λ̃·Tr(K)/n²).
        /// The default is 36 values spaced logarithmically from 1e-6 to 10.
        /// </summary>
        public double[] RidgeGrid = Defaults.CreateRidgeGrid();

        /// <summary>How the final ridge (and, with a hold-out, the training epoch) is chosen from the training rows.</summary>
        public KareRidgeSelection RidgeSelection = Defaults.RidgeSelection;

        /// <summary>Fraction of the training rows held out to choose the ridge and epoch when <see cref="RidgeSelection"/> is <see cref="KareRidgeSelection.HoldOut"/>.</summary>
        public double ValidationFraction = Defaults.ValidationFraction;

        /// <summary>Seed of the network initialisation, the hold-out split and mini-batches; null takes one from the MLContext's random source.</summary>
        public int? Seed;

        /// <summary>Number of threads libtorch may use for training; null uses its default.</summary>
        public int? NumberOfThreads;

        /// <summary>Receives a summary after every training epoch (KARE value, held-out error); null for none.</summary>
        public IProgress<KareEpochSummary>? Progress;

        /// <summary>
        /// Cancels training: Fit then throws <see cref="OperationCanceledException"/> within one training step.
        /// </summary>
        public CancellationToken CancellationToken;
    }

    /// <summary>Default values shared by <see cref="Options"/> and the <see cref="KareCatalog"/> overloads.</summary>
    internal static class Defaults
    {
        public const int HiddenLayerWidth = 64;
        public const KareActivation Activation = KareActivation.Gelu;
        public const int NumberOfEpochs = 100;
        public const double LearningRate = 20.0;
        public const KareOptimizer Optimizer = KareOptimizer.Sgd;
        public const int BatchSize = 0;
        public const double TrainingRidge = 0.1;
        public const KareRidgeSelection RidgeSelection = KareRidgeSelection.HoldOut;
        public const double ValidationFraction = 0.2;
        public const int RidgeGridCount = 36;
        public const double RidgeGridMinimum = 1e-6;
        public const double RidgeGridMaximum = 10.0;

        public static int[] CreateHiddenLayerWidths() => new[] { HiddenLayerWidth };

        /// <summary>The default ridge grid: <see cref="RidgeGridCount"/> log-spaced values from <see cref="RidgeGridMinimum"/> to <see cref="RidgeGridMaximum"/>.</summary>
        public static double[] CreateRidgeGrid()
        {
            var grid = new double[RidgeGridCount];
            double logMin = Math.Log10(RidgeGridMinimum);
            double step = (Math.Log10(RidgeGridMaximum) - logMin) / (RidgeGridCount - 1);
            for (int i = 0; i < grid.Length; i++)
                grid[i] = Math.Pow(10, logMin + i * step);
            grid[0] = RidgeGridMinimum;
            grid[^1] = RidgeGridMaximum;
            return grid;
        }
    }

    private readonly Options _options;

    /// <summary>
    /// Creates a <see cref="KareRegressionTrainer"/> with the key hyperparameters; the other options take their defaults.
    /// </summary>
    internal KareRegressionTrainer(IHostEnvironment env,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = Defaults.NumberOfEpochs,
        double learningRate = Defaults.LearningRate,
        int[]? hiddenLayerWidths = null)
        : this(env, new Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ExampleWeightColumnName = exampleWeightColumnName,
            NumberOfEpochs = numberOfEpochs,
            LearningRate = learningRate,
            HiddenLayerWidths = hiddenLayerWidths ?? Defaults.CreateHiddenLayerWidths(),
        })
    {
    }

    /// <summary>Creates a <see cref="KareRegressionTrainer"/> from <paramref name="options"/>, which it copies.</summary>
    internal KareRegressionTrainer(IHostEnvironment env, Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(LoadNameValue),
            TrainerUtils.MakeR4VecFeature(CheckColumnOptions(env, options).FeatureColumnName),
            TrainerUtils.MakeR4ScalarColumn(options.LabelColumnName),
            TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
    {
        Host.CheckUserArg(options.HiddenLayerWidths is { Length: > 0 } && options.HiddenLayerWidths.All(w => w > 0), nameof(options.HiddenLayerWidths), "Must list at least one hidden layer, each of positive width.");
        Host.CheckUserArg(Enum.IsDefined(options.Activation), nameof(options.Activation), "Must be a defined KareActivation value.");
        Host.CheckUserArg(options.NumberOfEpochs >= 0, nameof(options.NumberOfEpochs), "Must be non-negative (0 uses the kernel at initialisation).");
        Host.CheckUserArg(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(options.LearningRate), "Must be a positive finite number.");
        Host.CheckUserArg(Enum.IsDefined(options.Optimizer), nameof(options.Optimizer), "Must be a defined KareOptimizer value.");
        Host.CheckUserArg(options.BatchSize == 0 || options.BatchSize >= 2, nameof(options.BatchSize), "Must be 0 (full batch) or at least 2 rows.");
        Host.CheckUserArg(options.TrainingRidge > 0 && double.IsFinite(options.TrainingRidge), nameof(options.TrainingRidge), "Must be a positive finite number (relative ridge: λ = z·Tr(K)/n²).");
        Host.CheckUserArg(options.RidgeGrid is { Length: > 0 } && options.RidgeGrid.All(r => r > 0 && double.IsFinite(r)), nameof(options.RidgeGrid), "Must list at least one relative ridge, each a positive finite number.");
        Host.CheckUserArg(Enum.IsDefined(options.RidgeSelection), nameof(options.RidgeSelection), "Must be a defined KareRidgeSelection value.");
        Host.CheckUserArg(options.ValidationFraction > 0 && options.ValidationFraction < 1, nameof(options.ValidationFraction), "Must be strictly between 0 and 1.");
        Host.CheckUserArg(options.NumberOfThreads is null || options.NumberOfThreads > 0, nameof(options.NumberOfThreads), "Must be positive, or null for libtorch's default.");

        _options = CopyOptions(options);
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

    /// <summary>Accepts a scalar label of type <see cref="float"/> or <see cref="double"/>.</summary>
    protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
    {
        Host.CheckParam(labelCol.IsValid, nameof(labelCol), "not initialized properly");
        bool ok = labelCol.Kind == SchemaShape.Column.VectorKind.Scalar
            && (labelCol.ItemType == NumberDataViewType.Single || labelCol.ItemType == NumberDataViewType.Double);
        if (!ok)
            throw Host.ExceptSchemaMismatch(nameof(labelCol), "label", LabelColumn.Name, "Single or Double", labelCol.GetTypeString());
    }

    /// <inheritdoc/>
    protected override KareRegressionModelParameters TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        RoleMappedData data = context.TrainingSet;
        data.CheckRegressionLabel();
        data.CheckFeatureFloatVector(out int featureCount);
        data.CheckOptFloatWeight();

        using IChannel ch = Host.Start("Training");
        KareTrainingData rows = ReadRows(ch, data, featureCount);
        ch.Info($"Training KARE on {rows.RowCount} rows × {featureCount} features.");

        KareFitSettings settings = CreateSettings(_options, _options.Seed ?? Host.Rand.Next());
        KareFitResult result;
        using (IProgressChannel pch = Host.StartProgressChannel("Training KARE"))
        {
            var monitor = new ChannelMonitor(Host, ch, pch, _options.Progress, _options.CancellationToken);
            result = KareFitter.Fit(rows, settings, monitor);
        }
        ch.Info($"KARE model: epoch {result.SelectedEpoch}, relative ridge {result.RelativeRidge:G4} (λ = {result.Ridge:G4}).");
        return new KareRegressionModelParameters(Host, result);
    }

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
    internal static KareFitSettings CreateSettings(Options options, int seed) => new KareFitSettings
    {
        HiddenWidths = options.HiddenLayerWidths.ToArray(),
        Activation = options.Activation,
        Epochs = options.NumberOfEpochs,
        LearningRate = options.LearningRate,
        Optimizer = options.Optimizer,
        BatchSize = options.BatchSize,
        TrainingRelativeRidge = options.TrainingRidge,
        RelativeRidgeGrid = options.RidgeGrid.ToArray(),
        RidgeSelection = options.RidgeSelection,
        ValidationFraction = options.ValidationFraction,
        Seed = seed,
        ThreadCount = options.NumberOfThreads ?? 0,
    };

    private static Options CheckColumnOptions(IHostEnvironment env, Options options)
    {
        env.CheckValue(options, nameof(options));
        env.CheckUserArg(!string.IsNullOrWhiteSpace(options.FeatureColumnName), nameof(options.FeatureColumnName), "Must name the feature column.");
        env.CheckUserArg(!string.IsNullOrWhiteSpace(options.LabelColumnName), nameof(options.LabelColumnName), "Must name the label column.");
        return options;
    }

    /// <summary>A copy, so that later changes to the caller's options (and arrays) do not change this trainer.</summary>
    private static Options CopyOptions(Options options) => new Options
    {
        LabelColumnName = options.LabelColumnName,
        FeatureColumnName = options.FeatureColumnName,
        ExampleWeightColumnName = options.ExampleWeightColumnName,
        HiddenLayerWidths = options.HiddenLayerWidths.ToArray(),
        Activation = options.Activation,
        NumberOfEpochs = options.NumberOfEpochs,
        LearningRate = options.LearningRate,
        Optimizer = options.Optimizer,
        BatchSize = options.BatchSize,
        TrainingRidge = options.TrainingRidge,
        RidgeGrid = options.RidgeGrid.ToArray(),
        RidgeSelection = options.RidgeSelection,
        ValidationFraction = options.ValidationFraction,
        Seed = options.Seed,
        NumberOfThreads = options.NumberOfThreads,
        Progress = options.Progress,
        CancellationToken = options.CancellationToken,
    };

    /// <summary>
    /// Reads the label, feature and weight columns into arrays, skipping rows with a missing or non-finite label, a
    /// non-finite feature, or a missing or negative weight (as ML.NET's trainers do).
    /// </summary>
    private KareTrainingData ReadRows(IChannel ch, RoleMappedData data, int featureCount)
    {
        DataViewSchema.Column labelColumn = data.Schema.Label!.Value;
        DataViewSchema.Column featureColumn = data.Schema.Feature!.Value;
        DataViewSchema.Column? weightColumn = data.Schema.Weight;
        var active = weightColumn.HasValue
            ? new[] { labelColumn, featureColumn, weightColumn.Value }
            : new[] { labelColumn, featureColumn };

        var features = new GrowableArray(featureCount * 64L);
        var labels = new GrowableArray(64);
        GrowableArray? weights = weightColumn.HasValue ? new GrowableArray(64) : null;
        long badLabels = 0, badFeatures = 0, badWeights = 0;
        int rows = 0;
        long maximumRows = Array.MaxLength / featureCount;

        using (DataViewRowCursor cursor = data.Data.GetRowCursor(active))
        {
            ValueGetter<double> getLabel = RowCursorUtils.GetGetterAs<double>(NumberDataViewType.Double, cursor, labelColumn.Index);
            ValueGetter<VBuffer<float>> getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            ValueGetter<double>? getWeight = weightColumn.HasValue
                ? RowCursorUtils.GetGetterAs<double>(NumberDataViewType.Double, cursor, weightColumn.Value.Index)
                : null;
            double label = 0, weight = 1;
            VBuffer<float> vector = default;
            var dense = new double[featureCount];
            while (cursor.MoveNext())
            {
                if ((cursor.Position & 1023) == 0)
                    Host.CheckAlive();
                getLabel(ref label);
                if (!double.IsFinite(label))
                {
                    badLabels++;
                    continue;
                }
                if (getWeight is not null)
                {
                    getWeight(ref weight);
                    if (!(weight >= 0) || !double.IsFinite(weight))
                    {
                        badWeights++;
                        continue;
                    }
                }
                getFeatures(ref vector);
                if (!ToDense(in vector, dense))
                {
                    badFeatures++;
                    continue;
                }
                if (rows >= maximumRows)
                    throw ch.Except($"Too many training rows for {featureCount} features: KARE holds the features in one array of at most {Array.MaxLength} values.");
                features.Append(dense);
                labels.Append(label);
                weights?.Append(weight);
                rows++;
            }
        }

        long skipped = badLabels + badFeatures + badWeights;
        if (skipped > 0)
        {
            ch.Warning($"Skipped {skipped} of {rows + skipped} training rows: {badLabels} with a missing or non-finite label, "
                + $"{badFeatures} with a missing or non-finite feature, {badWeights} with a missing or negative weight.");
        }
        if (rows == 0)
        {
            throw ch.Except($"No usable training rows: every row has a missing or non-finite value in the label column '{labelColumn.Name}', "
                + $"the feature column '{featureColumn.Name}'"
                + (weightColumn.HasValue ? $" or the weight column '{weightColumn.Value.Name}'." : "."));
        }
        return new KareTrainingData(features.ToArray(), rows, featureCount, labels.ToArray(), 1, weights?.ToArray());
    }

    /// <summary>Copies <paramref name="vector"/> into <paramref name="dense"/>; false if a value is not finite.</summary>
    private static bool ToDense(in VBuffer<float> vector, double[] dense)
    {
        ReadOnlySpan<float> values = vector.GetValues();
        if (vector.IsDense)
        {
            for (int j = 0; j < values.Length; j++)
            {
                if (!float.IsFinite(values[j]))
                    return false;
                dense[j] = values[j];
            }
            return true;
        }
        Array.Clear(dense);
        ReadOnlySpan<int> indices = vector.GetIndices();
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return false;
            dense[indices[i]] = values[i];
        }
        return true;
    }

    /// <summary>An append-only list of doubles that hands over its array without copying when it is full.</summary>
    private sealed class GrowableArray
    {
        private double[] _items;
        private int _count;

        public GrowableArray(long capacity) => _items = new double[(int)Math.Clamp(capacity, 16, 1 << 20)];

        public void Append(double value)
        {
            if (_count == _items.Length)
                Grow(_count + 1);
            _items[_count++] = value;
        }

        public void Append(ReadOnlySpan<double> values)
        {
            if (_items.Length - _count < values.Length)
                Grow((long)_count + values.Length);
            values.CopyTo(_items.AsSpan(_count));
            _count += values.Length;
        }

        public double[] ToArray() => _count == _items.Length ? _items : _items.AsSpan(0, _count).ToArray();

        private void Grow(long needed)
        {
            long size = Math.Max(needed, Math.Min((long)_items.Length * 2, Array.MaxLength));
            Array.Resize(ref _items, (int)size);
        }
    }

    /// <summary>Forwards the backend's reports to the ML.NET channel and progress channel; checks for cancellation.</summary>
    private sealed class ChannelMonitor : ITrainingMonitor
    {
        private readonly IHost _host;
        private readonly IChannel _channel;
        private readonly IProgress<KareEpochSummary>? _progress;
        private readonly CancellationToken _cancellation;
        private int _epoch;
        private int _totalEpochs;
        private double _kare = double.NaN;
        private double _validationError = double.NaN;

        public ChannelMonitor(IHost host, IChannel channel, IProgressChannel progress, IProgress<KareEpochSummary>? epochProgress, CancellationToken cancellation)
        {
            _host = host;
            _channel = channel;
            _progress = epochProgress;
            _cancellation = cancellation;
            progress.SetHeader(new ProgressHeader(new[] { "KARE", "Validation MSE" }, new[] { "epochs" }), entry =>
            {
                entry.SetProgress(0, Volatile.Read(ref _epoch), Math.Max(1, Volatile.Read(ref _totalEpochs)));
                entry.SetMetric(0, Volatile.Read(ref _kare));
                entry.SetMetric(1, Volatile.Read(ref _validationError));
            });
        }

        public void Info(string message) => _channel.Info(message);

        public void Warning(string message) => _channel.Warning(message);

        public void EpochCompleted(KareEpochSummary summary, int totalEpochs)
        {
            Volatile.Write(ref _kare, summary.Kare);
            Volatile.Write(ref _validationError, summary.ValidationError);
            Volatile.Write(ref _totalEpochs, totalEpochs);
            Volatile.Write(ref _epoch, summary.Epoch);
            _channel.Info($"Epoch {summary.Epoch}/{totalEpochs}: KARE ρ={summary.Kare:G6}, validation MSE={summary.ValidationError:G6}"
                + (double.IsNaN(summary.ValidationRelativeRidge) ? "" : $" (relative ridge {summary.ValidationRelativeRidge:G3})"));
            _progress?.Report(summary);
        }

        public void CheckAlive()
        {
            _cancellation.ThrowIfCancellationRequested();
            _host.CheckAlive();
        }
    }
}
