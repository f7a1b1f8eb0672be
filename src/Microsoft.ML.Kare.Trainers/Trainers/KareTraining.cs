using System.Linq;
using System.Threading;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Kare;

/// <summary>
/// What the KARE trainers share: options checks and copies, the mapping to the backend's settings, reading the
/// training rows, and running the backend with ML.NET's channels.
/// </summary>
internal static class KareTraining
{
    /// <summary>
    /// Checks the column names before a trainer of this library registers its columns; returns <paramref name="options"/>.
    /// </summary>
    public static TOptions CheckColumnOptions<TOptions>(IHostEnvironment env, TOptions options)
        where TOptions : TrainerInputBaseWithLabel
    {
        env.CheckValue(options, nameof(options));
        env.CheckUserArg(!string.IsNullOrWhiteSpace(options.FeatureColumnName), nameof(options.FeatureColumnName), "Must name the feature column.");
        env.CheckUserArg(!string.IsNullOrWhiteSpace(options.LabelColumnName), nameof(options.LabelColumnName), "Must name the label column.");
        return options;
    }

    /// <summary>Checks every training option (one line per option), naming the option on failure.</summary>
    public static void CheckOptions(IHost host, KareTrainerOptionsBase options)
    {
        host.CheckUserArg(Enum.IsDefined(options.Method), nameof(options.Method), "Must be a defined KareMethod value.");
        host.CheckUserArg(options.HiddenLayerWidths is { Length: > 0 }, nameof(options.HiddenLayerWidths), "Must list at least one hidden layer.");
        host.CheckUserArg(options.HiddenLayerWidths.All(w => w > 0), nameof(options.HiddenLayerWidths), "Every hidden layer must have a positive width.");
        host.CheckUserArg(Enum.IsDefined(options.Activation), nameof(options.Activation), "Must be a defined KareActivation value.");
        host.CheckUserArg(options.NumberOfEpochs >= 0, nameof(options.NumberOfEpochs), "Must be non-negative (0 uses the kernel at initialisation).");
        host.CheckUserArg(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(options.LearningRate), "Must be a positive finite number.");
        host.CheckUserArg(Enum.IsDefined(options.Optimizer), nameof(options.Optimizer), "Must be a defined KareOptimizer value.");
        host.CheckUserArg(options.MeanSquaredErrorLearningRate > 0 && double.IsFinite(options.MeanSquaredErrorLearningRate), nameof(options.MeanSquaredErrorLearningRate), "Must be a positive finite number.");
        host.CheckUserArg(options.RelinearizationInterval >= 0, nameof(options.RelinearizationInterval), "Must be non-negative (0 never re-linearises).");
        host.CheckUserArg(options.BatchSize == 0 || options.BatchSize >= 2, nameof(options.BatchSize), "Must be 0 (full batch) or at least 2 rows.");
        host.CheckUserArg(options.TrainingRidge > 0 && double.IsFinite(options.TrainingRidge), nameof(options.TrainingRidge), "Must be a positive finite number (relative ridge: λ = z·Tr(K)/n²).");
        host.CheckUserArg(options.RidgeGrid is { Length: > 0 } && options.RidgeGrid.All(r => r > 0 && double.IsFinite(r)), nameof(options.RidgeGrid), "Must list at least one relative ridge, each a positive finite number.");
        host.CheckUserArg(Enum.IsDefined(options.RidgeSelection), nameof(options.RidgeSelection), "Must be a defined KareRidgeSelection value.");
        host.CheckUserArg(Enum.IsDefined(options.RelevanceWeighting), nameof(options.RelevanceWeighting), "Must be a defined KareRelevanceWeighting value.");
        host.CheckUserArg(options.ValidationFraction >= 0 && options.ValidationFraction < 1, nameof(options.ValidationFraction), "Must be at least 0 and less than 1.");
        host.CheckUserArg(options.ValidationFraction > 0 || options.RidgeSelection is KareRidgeSelection.GeneralizedCrossValidation or KareRidgeSelection.CrossValidation,
            nameof(options.ValidationFraction), "Must be positive when RidgeSelection is HoldOut or Automatic (the rows held out choose the ridge and epoch).");
        host.CheckUserArg(options.NumberOfFolds >= 2, nameof(options.NumberOfFolds), "Must be at least 2.");
        host.CheckUserArg(options.MaximumKernelTrainingRows is null or 0 or >= 2 * FitPlan.MinimumHoldOutRows, nameof(options.MaximumKernelTrainingRows),
            $"Must be 0 (no limit), at least {2 * FitPlan.MinimumHoldOutRows}, or null (automatic).");
        host.CheckUserArg(Enum.IsDefined(options.CrossValidationModel), nameof(options.CrossValidationModel), "Must be a defined KareCrossValidationModel value.");
        host.CheckUserArg(options.StochasticGradientProbes is null || options.StochasticGradientProbes >= 0, nameof(options.StochasticGradientProbes), "Must be non-negative (0: the exact gradient), or null for automatic.");
        host.CheckUserArg(options.EarlyStoppingPatience is null || options.EarlyStoppingPatience >= 0, nameof(options.EarlyStoppingPatience), "Must be non-negative (0 never stops early), or null for automatic.");
        host.CheckUserArg(options.MaximumMemoryMegabytes is null || options.MaximumMemoryMegabytes > 0, nameof(options.MaximumMemoryMegabytes), "Must be positive, or null for three quarters of the machine's memory.");
        if (options is KareRegressionTrainer.Options regression)
            CheckIntervalCoverage(host, regression.PredictionIntervalCoverage);
        host.CheckUserArg(options.NumberOfThreads is null || options.NumberOfThreads > 0, nameof(options.NumberOfThreads), "Must be positive, or null for libtorch's default.");
    }

    /// <summary>Checks a regression trainer's <c>PredictionIntervalCoverage</c>: 0 (no intervals) up to, not including, 1.</summary>
    public static void CheckIntervalCoverage(IHost host, double coverage)
        => host.CheckUserArg(coverage >= 0 && coverage < 1, "PredictionIntervalCoverage", "Must be at least 0 (no intervals) and less than 1.");

    /// <summary>A regression trainer's output columns: <c>Score</c>, and <c>LowerBound</c> and <c>UpperBound</c> with intervals.</summary>
    public static SchemaShape.Column[] RegressionOutputColumns(bool intervals)
    {
        var score = new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation()));
        if (!intervals)
            return new[] { score };
        return new[]
        {
            score,
            new SchemaShape.Column(KarePredictionInterval.LowerBoundColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false),
            new SchemaShape.Column(KarePredictionInterval.UpperBoundColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false),
        };
    }

    /// <summary>A copy, so that later changes to the caller's options (and arrays) do not change the trainer.</summary>
    public static TOptions Copy<TOptions>(TOptions options)
        where TOptions : KareTrainerOptionsBase => (TOptions)options.Copy();

    /// <summary>Maps options to the backend's settings.</summary>
    public static KareFitSettings CreateSettings(KareTrainerOptionsBase options, int seed, bool leaveOneOutPredictions = false) => new KareFitSettings
    {
        Method = options.Method,
        MeanSquaredErrorLearningRate = options.MeanSquaredErrorLearningRate,
        RelinearizationInterval = options.RelinearizationInterval,
        HiddenWidths = options.HiddenLayerWidths.ToArray(),
        Activation = options.Activation,
        Epochs = options.NumberOfEpochs,
        LearningRate = options.LearningRate,
        Optimizer = options.Optimizer,
        BatchSize = options.BatchSize,
        TrainingRelativeRidge = options.TrainingRidge,
        AppendNormalScores = options.AppendNormalScores,
        RelativeRidgeGrid = options.RidgeGrid.ToArray(),
        RidgeSelection = options.RidgeSelection,
        ValidationFraction = options.ValidationFraction,
        CompressSkewedFeatures = options.CompressSkewedFeatures,
        ScaleIndicatorsByRange = options.ScaleIndicatorsByRange,
        RelevanceWeighting = options.RelevanceWeighting,
        ClipInputsToTrainingRange = options.ClipInputsToTrainingRange,
        SinglePrecisionTraining = options.SinglePrecisionTraining,
        Folds = options.NumberOfFolds,
        MaximumKernelTrainingRows = options.MaximumKernelTrainingRows ?? FitPlan.AutomaticMaximumKernelTrainingRows,
        FoldEnsemble = options.CrossValidationModel == KareCrossValidationModel.FoldEnsemble,
        EarlyStoppingPatience = options.EarlyStoppingPatience,
        StochasticProbes = options.StochasticGradientProbes,
        Seed = seed,
        ThreadCount = options.NumberOfThreads ?? 0,
        MemoryBudgetBytes = options.MaximumMemoryMegabytes is int megabytes ? (long)megabytes << 20 : KareMemoryEstimate.DefaultBudgetBytes(),
        ComputeLeaveOneOutPredictions = leaveOneOutPredictions,
        IntervalCoverage = options is KareRegressionTrainer.Options regression ? regression.PredictionIntervalCoverage : 0,
    };

    /// <summary>
    /// Reads the training rows and runs the backend: KARE training, then the final kernel ridge regression.
    /// Progress goes to the host's channels and to <see cref="KareTrainerOptionsBase.Progress"/>.
    /// </summary>
    public static KareFitResult Fit(IHost host, IChannel ch, KareTrainingData rows, KareTrainerOptionsBase options, bool leaveOneOutPredictions)
    {
        SelectDevice(host, ch);
        ch.Info($"Training KARE on {rows.RowCount} rows × {rows.FeatureCount} features"
            + (rows.TargetCount > 1 ? $", {rows.TargetCount} outputs." : "."));
        KareFitSettings settings = CreateSettings(options, options.Seed ?? host.Rand.Next(), leaveOneOutPredictions);
        KareFitResult result;
        using (IProgressChannel pch = host.StartProgressChannel("Training KARE"))
        {
            var monitor = new ChannelMonitor<KareEpochSummary>(host, ch, pch, EpochFormat, options.Progress, options.CancellationToken);
            result = KareFitter.Fit(rows, settings, monitor);
        }
        ch.Info($"KARE model: epoch {result.SelectedEpoch}, relative ridge {result.RelativeRidge:G4} (λ = {result.Ridge:G4}).");
        return result;
    }

    /// <summary>
    /// Honours MLContext.GpuDeviceId and FallbackToCpu as ML.NET's TorchSharp trainers do. The KARE backend trains on
    /// the CPU: a GPU request falls back to it with a warning when FallbackToCpu is set, and fails with a clear
    /// message otherwise, naming why (no CUDA build of libtorch is loaded, or CUDA training is not supported).
    /// </summary>
    internal static void SelectDevice(IHost host, IChannel ch)
    {
        var environment = host as IHostEnvironmentInternal;
        if (environment?.GpuDeviceId is not int device)
            return;
        string reason = TorchRuntime.IsCudaAvailable()
            ? "this version of the KARE backend trains on the CPU only"
            : "no CUDA build of libtorch is loaded (Microsoft.ML.Kare ships libtorch for the CPU)";
        if (!environment.FallbackToCpu)
            throw ch.Except($"MLContext.GpuDeviceId is {device}, but {reason}. Set MLContext.FallbackToCpu = true to train on the CPU, or leave GpuDeviceId unset.");
        ch.Warning($"MLContext.GpuDeviceId is {device}, but {reason}; training on the CPU because MLContext.FallbackToCpu is true.");
    }

    /// <summary>
    /// Reads the label, feature and weight columns into arrays, skipping rows with a missing or invalid label, a
    /// non-finite feature, or a missing or negative weight (as ML.NET's trainers do). <paramref name="targets"/> turns a
    /// label into the row's regression targets.
    /// </summary>
    public static KareTrainingData ReadRows(IHost host, IChannel ch, RoleMappedData data, int featureCount, KareTargetEncoding targets)
    {
        DataViewSchema.Column labelColumn = data.Schema.Label!.Value;
        DataViewSchema.Column featureColumn = data.Schema.Feature!.Value;
        DataViewSchema.Column? weightColumn = data.Schema.Weight;
        var active = weightColumn.HasValue
            ? new[] { labelColumn, featureColumn, weightColumn.Value }
            : new[] { labelColumn, featureColumn };

        int targetCount = targets.TargetCount;
        var features = new GrowableArray(featureCount * 64L);
        var labels = new GrowableArray(64L * targetCount);
        GrowableArray? weights = weightColumn.HasValue ? new GrowableArray(64) : null;
        long badLabels = 0, badFeatures = 0, badWeights = 0;
        int rows = 0;
        long maximumRows = Array.MaxLength / Math.Max(featureCount, targetCount);

        using (DataViewRowCursor cursor = data.Data.GetRowCursor(active))
        {
            KareTargetEncoding.TargetGetter getTargets = targets.CreateGetter(cursor, labelColumn);
            ValueGetter<VBuffer<float>> getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            ValueGetter<double>? getWeight = weightColumn.HasValue
                ? RowCursorUtils.GetGetterAs<double>(NumberDataViewType.Double, cursor, weightColumn.Value.Index)
                : null;
            double weight = 1;
            VBuffer<float> vector = default;
            var dense = new double[featureCount];
            var target = new double[targetCount];
            while (cursor.MoveNext())
            {
                if ((cursor.Position & 1023) == 0)
                    host.CheckAlive();
                if (!getTargets(target))
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
                ReadFeatures(ch, getFeatures, ref vector, featureColumn.Name, featureCount, cursor.Position);
                if (!ToDense(in vector, dense))
                {
                    badFeatures++;
                    continue;
                }
                if (rows >= maximumRows)
                    throw ch.Except($"Too many training rows for {featureCount} features: KARE holds the features in one array of at most {Array.MaxLength} values.");
                features.Append(dense);
                labels.Append(target);
                weights?.Append(weight);
                rows++;
            }
        }

        ReportSkippedRows(ch, data, targets, rows, badLabels, badFeatures, badWeights);
        return new KareTrainingData(features.ToArray(), rows, featureCount, labels.ToArray(), targetCount, weights?.ToArray());
    }

    /// <summary>Warns of skipped rows (counted by cause); fails when the data have no rows, or no usable row.</summary>
    private static void ReportSkippedRows(IChannel ch, RoleMappedData data, KareTargetEncoding targets, int rows, long badLabels, long badFeatures, long badWeights)
    {
        long skipped = badLabels + badFeatures + badWeights;
        if (skipped > 0)
        {
            ch.Warning($"Skipped {skipped} of {rows + skipped} training rows: {badLabels} with {targets.InvalidLabelDescription}, "
                + $"{badFeatures} with a missing or non-finite feature, {badWeights} with a missing or negative weight.");
        }
        if (rows + skipped == 0)
            throw ch.Except("The training data has no rows.");
        if (rows == 0)
        {
            DataViewSchema.Column? weightColumn = data.Schema.Weight;
            throw ch.Except($"No usable training rows: every row has a missing or non-finite value in the label column '{data.Schema.Label!.Value.Name}', "
                + $"the feature column '{data.Schema.Feature!.Value.Name}'"
                + (weightColumn.HasValue ? $" or the weight column '{weightColumn.Value.Name}'." : "."));
        }
    }

    /// <summary>
    /// Reads the row's feature vector. Fails, naming the column, its declared size and the row, when the vector has
    /// another length (ML.NET's views of in-memory rows hand over an array of any length under the declared size) or
    /// when the column's getter throws (its exception is kept as the inner exception).
    /// </summary>
    private static void ReadFeatures(IChannel ch, ValueGetter<VBuffer<float>> getFeatures, ref VBuffer<float> vector, string column, int featureCount, long position)
    {
        try
        {
            getFeatures(ref vector);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw ch.Except(ex, $"Reading the feature column '{column}' (a vector of {featureCount} values) failed at the row at position {position} (counting from 0): {ex.Message}");
        }
        if (vector.Length != featureCount)
        {
            throw ch.Except($"The feature column '{column}' is declared as a vector of {featureCount} values, but the row at position {position} (counting from 0) "
                + $"has {vector.Length}. Every row's feature vector must have exactly {featureCount} values.");
        }
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

    /// <summary>How KARE epochs appear in the progress channel and log.</summary>
    internal static readonly ProgressFormat<KareEpochSummary> EpochFormat = new(
        new[] { "KARE", "Validation MSE" }, "epochs", summary => summary.Epoch,
        summary => new[] { summary.Kare, summary.ValidationError },
        (summary, total) => $"Epoch {summary.Epoch}/{total}: KARE ρ={summary.Kare:G6}"
            + (double.IsNaN(summary.ValidationError) ? "" : $", validation MSE={summary.ValidationError:G6}")
            + (double.IsNaN(summary.ValidationRelativeRidge) ? "" : $" (relative ridge {summary.ValidationRelativeRidge:G3})"));
}
