using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>The outcome of one fit on one split: the test metric, the log-loss (classification) and the fit time.</summary>
internal sealed record SuiteFitResult
{
    public required string DataSet { get; init; }
    public required int Split { get; init; }
    public required string Model { get; init; }
    public required string Options { get; init; }

    /// <summary>R² (regression) or accuracy (classification) on the split's test rows.</summary>
    public required double Metric { get; init; }

    /// <summary>Test log-loss (natural log) for classification; NaN for regression.</summary>
    public required double LogLoss { get; init; }

    /// <summary>Wall-clock seconds of the trainer's Fit.</summary>
    public required double FitSeconds { get; init; }

    public required int TrainingRows { get; init; }

    /// <summary>The KARE model's kept epoch and relative ridge (NaN for other models).</summary>
    public double SelectedEpoch { get; init; } = double.NaN;

    public double RelativeRidge { get; init; } = double.NaN;

    /// <summary>The KARE model's last trained epoch (NaN for other models).</summary>
    public double EpochsRun { get; init; } = double.NaN;

    /// <summary>Peak resident memory of the process during the fit, MB (NaN where /proc is not available).</summary>
    public double PeakMegabytes { get; init; } = double.NaN;

    /// <summary>The KARE fit's path messages (where it stepped, measured and solved), joined; empty for other models.</summary>
    public string Path { get; init; } = "";

    /// <summary>Regression with prediction intervals: the fraction of test labels inside [LowerBound, UpperBound] (NaN otherwise).</summary>
    public double IntervalCoverage { get; init; } = double.NaN;

    /// <summary>The intervals' mean width on the test rows, in label units (NaN without intervals).</summary>
    public double IntervalWidth { get; init; } = double.NaN;

    /// <summary>
    /// The constant-width split-conformal baseline: the same trainer without intervals fitted on 75% of the training rows,
    /// its 90% half-width the conformal quantile of the other 25%'s absolute residuals; coverage and width on the test rows.
    /// </summary>
    public double SplitConformalCoverage { get; init; } = double.NaN;

    public double SplitConformalWidth { get; init; } = double.NaN;

    /// <summary>
    /// The same split with locally adaptive widths (<see cref="AdaptiveIntervalWidth"/>): coverage and mean width on the
    /// test rows; NaN where not measured (deeper or larger networks).
    /// </summary>
    public double AdaptiveCoverage { get; init; } = double.NaN;

    public double AdaptiveWidth { get; init; } = double.NaN;

    /// <summary>Test rows of the split.</summary>
    public int TestRows { get; init; }
}

/// <summary>
/// Fits a model to one split of a <see cref="SuiteDataSet"/> and measures it on the split's test rows, as the suite's
/// reference results were made: features concatenated as stored, <c>MLContext(seed: 0)</c>, multiclass labels mapped to
/// keys by value over all the data set's labels; NormalizeMeanVariance before the linear ML.NET trainers.
/// </summary>
internal static class SuiteFit
{
    /// <summary>The ML.NET trainers of the reference results, with default options, per task.</summary>
    public static IReadOnlyList<string> MlNetPeers(SuiteTask task) => task switch
    {
        SuiteTask.Regression => new[] { "FastTree", "LightGbm", "Sdca", "FastForest" },
        SuiteTask.Binary => new[] { "FastTree", "LightGbm", "SdcaLogisticRegression", "LbfgsLogisticRegression" },
        _ => new[] { "LightGbm", "SdcaMaximumEntropy", "LbfgsMaximumEntropy", "OneVersusAll(FastTree)" },
    };

    /// <summary>Fits the KARE trainer of the data set's task with the given options.</summary>
    /// <param name="data">The data set.</param>
    /// <param name="split">The split (1-based).</param>
    /// <param name="model">The run's name, recorded as the model.</param>
    /// <param name="options">The trainer's options.</param>
    /// <param name="intervalBaseline">For regression with intervals, also fit the split-conformal baseline (one more fit).</param>
    public static SuiteFitResult Kare(SuiteDataSet data, int split, string model, KareOptionAssignments options, bool intervalBaseline = true)
    {
        if (NormalScores)
            data = data.WithNormalScores(split, NormalScoresAppended, NormalScoresMaximumCorrelation);
        var mlContext = new MLContext(seed: 0);
        var (train, test) = Views(mlContext, data, split);
        IEstimator<ITransformer> trainer = KareTrainer(mlContext, data.Task, options);
        var path = new List<string>();
        var clock = Stopwatch.StartNew();
        mlContext.Log += (_, e) =>
        {
            if (Trace && e.Kind is not Microsoft.ML.Runtime.ChannelMessageKind.Trace)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds,8:F2} s  {e.Message}"));
            int at = e.Message.IndexOf("KARE: ", StringComparison.Ordinal);
            if (at >= 0 && PathMessages.Any(m => e.Message.Contains(m, StringComparison.Ordinal)))
                lock (path)
                    path.Add(e.Message[(at + 6)..].TrimEnd('.'));
        };
        var (transformer, seconds, peak) = Timed(() => trainer.Fit(train));
        var (epoch, ridge, curve) = transformer switch
        {
            RegressionPredictionTransformer<KareRegressionModelParameters> r => (r.Model.SelectedEpoch, r.Model.RelativeRidge, r.Model.TrainingCurve),
            BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>> b
                => (b.Model.SubModel.SelectedEpoch, b.Model.SubModel.RelativeRidge, b.Model.SubModel.TrainingCurve),
            MulticlassPredictionTransformer<KareMulticlassModelParameters> m => (m.Model.SelectedEpoch, m.Model.RelativeRidge, m.Model.TrainingCurve),
            _ => (double.NaN, double.NaN, (IReadOnlyList<KareEpochSummary>)Array.Empty<KareEpochSummary>()),
        };
        SuiteFitResult measured = Measure(mlContext, data, split, model, options.Canonical, transformer, test, seconds);
        var baseline = double.IsNaN(measured.IntervalCoverage) || !intervalBaseline ? SplitConformalResult.None : SplitConformal(mlContext, data, split, options, test);
        return measured with
        {
            SplitConformalCoverage = baseline.Coverage,
            SplitConformalWidth = baseline.Width,
            AdaptiveCoverage = baseline.AdaptiveCoverage,
            AdaptiveWidth = baseline.AdaptiveWidth,
            SelectedEpoch = epoch,
            RelativeRidge = ridge,
            EpochsRun = curve.Count > 0 ? curve[^1].Epoch : double.NaN,
            PeakMegabytes = peak,
            Path = string.Join("; ", path),
        };
    }

    /// <summary>
    /// When set, every KARE fit writes the trainer's log to standard error with the seconds since the fit began, so the
    /// epochs' times (a measured epoch carries its validation error) show where a fit's time goes.
    /// </summary>
    public static bool Trace { get; set; }

    /// <summary>When set, KARE fits see each split's features as normal scores (<see cref="SuiteDataSet.WithNormalScores"/>).</summary>
    public static bool NormalScores { get; set; }

    /// <summary>With <see cref="NormalScores"/>: the scores are appended to the features instead of replacing them.</summary>
    public static bool NormalScoresAppended { get; set; }

    /// <summary>With <see cref="NormalScoresAppended"/>: only scores whose correlation with their column is below this are appended.</summary>
    public static double NormalScoresMaximumCorrelation { get; set; } = 1.0;

    /// <summary>Fits one of <see cref="MlNetPeers"/> with default options.</summary>
    public static SuiteFitResult MlNet(SuiteDataSet data, int split, string model)
    {
        var mlContext = new MLContext(seed: 0);
        var (train, test) = Views(mlContext, data, split);
        var normalize = mlContext.Transforms.NormalizeMeanVariance("Features");
        IEstimator<ITransformer> pipeline = (data.Task, model) switch
        {
            (SuiteTask.Regression, "FastTree") => mlContext.Regression.Trainers.FastTree(),
            (SuiteTask.Regression, "LightGbm") => mlContext.Regression.Trainers.LightGbm(),
            (SuiteTask.Regression, "Sdca") => normalize.Append(mlContext.Regression.Trainers.Sdca()),
            (SuiteTask.Regression, "FastForest") => mlContext.Regression.Trainers.FastForest(),
            (SuiteTask.Binary, "FastTree") => mlContext.BinaryClassification.Trainers.FastTree(),
            (SuiteTask.Binary, "LightGbm") => mlContext.BinaryClassification.Trainers.LightGbm(),
            (SuiteTask.Binary, "SdcaLogisticRegression") => normalize.Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression()),
            (SuiteTask.Binary, "LbfgsLogisticRegression") => normalize.Append(mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression()),
            (SuiteTask.Multiclass, "LightGbm") => mlContext.MulticlassClassification.Trainers.LightGbm(),
            (SuiteTask.Multiclass, "SdcaMaximumEntropy") => normalize.Append(mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
            (SuiteTask.Multiclass, "LbfgsMaximumEntropy") => normalize.Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy()),
            (SuiteTask.Multiclass, "OneVersusAll(FastTree)") => mlContext.MulticlassClassification.Trainers.OneVersusAll(mlContext.BinaryClassification.Trainers.FastTree()),
            _ => throw new ArgumentException($"No ML.NET peer '{model}' for {data.Task}."),
        };
        var (transformer, seconds, peak) = Timed(() => pipeline.Fit(train));
        return Measure(mlContext, data, split, model, "defaults", transformer, test, seconds) with { PeakMegabytes = peak };
    }

    /// <summary>The model name of <see cref="RbfKernelRidgeReference"/> in results and reports.</summary>
    public const string RbfKernelRidgeModel = "RbfKernelRidgeCv";

    /// <summary>Fits <see cref="RbfKernelRidgeReference"/> (computed outside ML.NET) and scores it on the split's test rows.</summary>
    public static SuiteFitResult RbfKernelRidge(SuiteDataSet data, int split)
    {
        bool[] mask = data.TrainingMasks[split - 1], testMask = data.TestMasks[split - 1];
        int[] training = Enumerable.Range(0, data.RowCount).Where(i => mask[i]).ToArray();
        int[] testing = Enumerable.Range(0, data.RowCount).Where(i => testMask[i]).ToArray();
        int classes = data.Task switch
        {
            SuiteTask.Regression => 0,
            SuiteTask.Binary => 2,
            _ => (int)data.Labels.Max() + 1,
        };
        var clock = Stopwatch.StartNew();
        double[] predicted = RbfKernelRidgeReference.Predict(
            training.Select(i => data.Features[i]).ToArray(), training.Select(i => data.Labels[i]).ToArray(),
            testing.Select(i => data.Features[i]).ToArray(), classes);
        double seconds = clock.Elapsed.TotalSeconds;
        double[] actual = testing.Select(i => (double)data.Labels[i]).ToArray();
        double metric;
        if (classes == 0)
        {
            double mean = actual.Average();
            metric = 1 - actual.Zip(predicted, (y, f) => (y - f) * (y - f)).Sum() / actual.Sum(y => (y - mean) * (y - mean));
        }
        else
        {
            metric = actual.Zip(predicted, (y, f) => y == f ? 1.0 : 0.0).Average();
        }
        return new SuiteFitResult
        {
            DataSet = data.Name,
            Split = split,
            Model = RbfKernelRidgeModel,
            Options = "defaults",
            Metric = metric,
            LogLoss = double.NaN,
            FitSeconds = seconds,
            TrainingRows = training.Length,
            TestRows = testing.Length,
        };
    }

    /// <summary>The KARE trainer of <paramref name="task"/> with the given options (and cancellation token).</summary>
    internal static IEstimator<ITransformer> KareTrainer(MLContext mlContext, SuiteTask task, KareOptionAssignments options, CancellationToken cancellation = default)
        => task switch
        {
            SuiteTask.Regression => mlContext.Regression.Trainers.Kare(options.ApplyTo(new KareRegressionTrainer.Options { CancellationToken = cancellation })),
            SuiteTask.Binary => mlContext.BinaryClassification.Trainers.Kare(options.ApplyTo(new KareBinaryTrainer.Options { CancellationToken = cancellation })),
            _ => mlContext.MulticlassClassification.Trainers.Kare(options.ApplyTo(new KareMulticlassTrainer.Options { CancellationToken = cancellation })),
        };

    /// <summary>The log lines of a KARE fit that say which path it took.</summary>
    private static readonly string[] PathMessages = { "solved in", "parameter space", "stochastic gradient", "one libtorch thread" };

    /// <summary>Fits, timing the wall clock and the process's peak resident memory during the fit (its high-water mark reset first).</summary>
    private static (ITransformer Model, double Seconds, double PeakMegabytes) Timed(Func<ITransformer> fit)
    {
        ResourceUse.ResetPeakResidentMemory();
        var stopwatch = Stopwatch.StartNew();
        ITransformer model = fit();
        return (model, stopwatch.Elapsed.TotalSeconds, ResourceUse.PeakResidentMegabytes());
    }

    private static SuiteFitResult Measure(MLContext mlContext, SuiteDataSet data, int split, string model, string options,
        ITransformer transformer, IDataView test, double seconds)
    {
        IDataView scored = transformer.Transform(test);
        (double metric, double logLoss) = data.Task switch
        {
            SuiteTask.Regression => (mlContext.Regression.Evaluate(scored).RSquared, double.NaN),
            SuiteTask.Binary => (mlContext.BinaryClassification.Evaluate(scored).Accuracy, BinaryLogLoss(scored)),
            _ => (mlContext.MulticlassClassification.Evaluate(scored).MicroAccuracy, MulticlassLogLoss(scored)),
        };
        var (coverage, width) = IntervalMetrics(scored);
        return new SuiteFitResult
        {
            IntervalCoverage = coverage,
            IntervalWidth = width,
            DataSet = data.Name,
            Split = split,
            Model = model,
            Options = options,
            Metric = metric,
            LogLoss = logLoss,
            FitSeconds = seconds,
            TrainingRows = data.TrainingRowCount(split),
            TestRows = data.TestRowCount(split),
        };
    }

    /// <summary>Coverage and mean width of the LowerBound/UpperBound columns on scored test rows; NaN when there are none.</summary>
    private static (double Coverage, double Width) IntervalMetrics(IDataView scored)
    {
        if (scored.Schema.GetColumnOrNull("LowerBound") is null)
            return (double.NaN, double.NaN);
        float[] labels = scored.GetColumn<float>("Label").ToArray();
        float[] lower = scored.GetColumn<float>("LowerBound").ToArray();
        float[] upper = scored.GetColumn<float>("UpperBound").ToArray();
        int covered = Enumerable.Range(0, labels.Length).Count(i => lower[i] <= labels[i] && labels[i] <= upper[i]);
        return (covered / (double)labels.Length, Enumerable.Range(0, labels.Length).Average(i => (double)upper[i] - lower[i]));
    }

    /// <summary>Coverage and mean width of the split-conformal baseline, constant and adaptive.</summary>
    private sealed record SplitConformalResult(double Coverage, double Width, double AdaptiveCoverage, double AdaptiveWidth)
    {
        public static SplitConformalResult None { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN);
    }

    /// <summary>
    /// The split-conformal baseline of <see cref="SuiteFitResult.SplitConformalCoverage"/>: a fixed random quarter of the
    /// training rows calibrates, the rest train the KARE regression without intervals; the same model and split also
    /// give the adaptive-width measurement (<see cref="AdaptiveIntervalWidth"/>).
    /// </summary>
    private static SplitConformalResult SplitConformal(MLContext mlContext, SuiteDataSet data, int split, KareOptionAssignments options, IDataView test)
    {
        const double coverage = 0.9;
        bool[] mask = data.TrainingMasks[split - 1];
        int[] training = Enumerable.Range(0, data.RowCount).Where(i => mask[i]).ToArray();
        new Random(split).Shuffle(training);
        var calibration = training.Take(training.Length / 4).ToHashSet();
        int[] proper = training.Where(i => !calibration.Contains(i)).Order().ToArray();
        KareRegressionTrainer.Options trainerOptions = options.ApplyTo(new KareRegressionTrainer.Options());
        trainerOptions.PredictionIntervalCoverage = 0;
        var model = (RegressionPredictionTransformer<KareRegressionModelParameters>)mlContext.Regression.Trainers.Kare(trainerOptions)
            .Fit(Rows(mlContext, data, i => mask[i] && !calibration.Contains(i)));
        IDataView calibrated = model.Transform(Rows(mlContext, data, calibration.Contains));
        double[] residuals = Residuals(calibrated);
        double halfWidth = ConformalQuantile(residuals, coverage);
        IDataView scored = model.Transform(test);
        double[] testResiduals = Residuals(scored);
        double constantCoverage = testResiduals.Count(r => r <= halfWidth) / (double)testResiduals.Length;

        // Rows in the order Rows() gives them (ascending index), as the residuals are.
        float[][] Features(Func<int, bool> include) => Enumerable.Range(0, data.RowCount).Where(include).Select(i => data.Features[i]).ToArray();
        float[][] properRows = proper.Select(i => data.Features[i]).ToArray();
        double[]? calibrationScale = AdaptiveIntervalWidth.PosteriorStandardDeviations(model.Model, properRows, Features(calibration.Contains));
        if (calibrationScale is null)
            return new SplitConformalResult(constantCoverage, 2 * halfWidth, double.NaN, double.NaN);
        double[] testScale = AdaptiveIntervalWidth.PosteriorStandardDeviations(model.Model, properRows, Features(i => data.TestMasks[split - 1][i]))!;
        double scaledHalfWidth = ConformalQuantile(residuals.Select((r, i) => r / calibrationScale[i]).ToArray(), coverage);
        double adaptiveCoverage = testResiduals.Where((r, i) => r <= scaledHalfWidth * testScale[i]).Count() / (double)testResiduals.Length;
        return new SplitConformalResult(constantCoverage, 2 * halfWidth, adaptiveCoverage, 2 * scaledHalfWidth * testScale.Average());
    }

    private static double[] Residuals(IDataView scored)
    {
        float[] labels = scored.GetColumn<float>("Label").ToArray();
        float[] scores = scored.GetColumn<float>("Score").ToArray();
        return labels.Zip(scores, (y, f) => Math.Abs((double)y - f)).ToArray();
    }

    /// <summary>The ⌈c·(m + 1)⌉-th smallest of m values (infinity when that exceeds m), computed here independently of the library.</summary>
    private static double ConformalQuantile(double[] values, double coverage)
    {
        double[] sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(coverage * (sorted.Length + 1) - 1e-9);
        return rank <= sorted.Length ? sorted[rank - 1] : double.PositiveInfinity;
    }

    /// <summary>Probabilities are clipped to [1e-15, 1 − 1e-15], as scikit-learn's log_loss does.</summary>
    private const double ProbabilityFloor = 1e-15;

    /// <summary>Mean −ln p(true label) of the calibrated binary probabilities (natural log, as scikit-learn reports it).</summary>
    private static double BinaryLogLoss(IDataView scored)
    {
        bool[] labels = scored.GetColumn<bool>("Label").ToArray();
        float[] probabilities = scored.GetColumn<float>("Probability").ToArray();
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            double p = Math.Clamp(labels[i] ? probabilities[i] : 1 - probabilities[i], ProbabilityFloor, 1 - ProbabilityFloor);
            sum -= Math.Log(p);
        }
        return sum / labels.Length;
    }

    /// <summary>Mean −ln of the score of the true class (the scores are class probabilities; key k is slot k − 1).</summary>
    private static double MulticlassLogLoss(IDataView scored)
    {
        uint[] labels = scored.GetColumn<uint>("Label").ToArray();
        float[][] scores = scored.GetColumn<float[]>("Score").ToArray();
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
            sum -= Math.Log(Math.Clamp(scores[i][labels[i] - 1], ProbabilityFloor, 1 - ProbabilityFloor));
        return sum / labels.Length;
    }

    /// <summary>The training and test rows of a split as data views with a float label (bool for binary, key for multiclass).</summary>
    internal static (IDataView Train, IDataView Test) Views(MLContext mlContext, SuiteDataSet data, int split)
    {
        bool[] mask = data.TrainingMasks[split - 1], testMask = data.TestMasks[split - 1];
        IDataView trainingRows = Rows(mlContext, data, i => mask[i]);
        IDataView testRows = Rows(mlContext, data, i => testMask[i]);
        if (data.Task != SuiteTask.Multiclass)
            return (trainingRows, testRows);
        ITransformer keys = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(Rows(mlContext, data, _ => true));
        return (keys.Transform(trainingRows), keys.Transform(testRows));
    }

    private static IDataView Rows(MLContext mlContext, SuiteDataSet data, Func<int, bool> include)
    {
        int[] rows = Enumerable.Range(0, data.RowCount).Where(include).ToArray();
        return data.Task == SuiteTask.Binary
            ? Load(mlContext, data, rows, i => new BinaryRow { Label = data.Labels[i] != 0, Features = data.Features[i] })
            : Load(mlContext, data, rows, i => new RealRow { Label = data.Labels[i], Features = data.Features[i] });
    }

    private static IDataView Load<TRow>(MLContext mlContext, SuiteDataSet data, int[] rows, Func<int, TRow> row)
        where TRow : class
    {
        SchemaDefinition schema = SchemaDefinition.Create(typeof(TRow));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, data.FeatureCount);
        return mlContext.Data.LoadFromEnumerable(rows.Select(row).ToList(), schema);
    }

    private sealed class RealRow
    {
        public float Label { get; set; }
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class BinaryRow
    {
        public bool Label { get; set; }
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
