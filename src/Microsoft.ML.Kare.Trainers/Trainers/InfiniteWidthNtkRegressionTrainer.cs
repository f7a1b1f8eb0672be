using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.EntryPoints;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(InfiniteWidthNtkRegressionTrainer.Summary, typeof(InfiniteWidthNtkRegressionTrainer), typeof(InfiniteWidthNtkRegressionTrainer.Options),
    new[] { typeof(SignatureRegressorTrainer), typeof(SignatureTrainer) },
    InfiniteWidthNtkRegressionTrainer.UserNameValue,
    InfiniteWidthNtkRegressionTrainer.LoadNameValue,
    InfiniteWidthNtkRegressionTrainer.ShortName)]

namespace Microsoft.ML.Kare;

/// <summary>
/// The <see cref="IEstimator{TTransformer}"/> for training a regression model with the analytic neural tangent kernel
/// of an infinitely wide multilayer perceptron (Jacot, Gabriel and Hongler, "Neural Tangent Kernel", 2018).
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// To create this trainer, use [InfiniteWidthNtk](xref:Microsoft.ML.InfiniteWidthNtkCatalog.InfiniteWidthNtk(Microsoft.ML.RegressionCatalog.RegressionTrainers,System.String,System.String,System.String,Microsoft.ML.Kare.InfiniteWidthActivation,System.Int32,System.Double))
/// or [InfiniteWidthNtk(Options)](xref:Microsoft.ML.InfiniteWidthNtkCatalog.InfiniteWidthNtk(Microsoft.ML.RegressionCatalog.RegressionTrainers,Microsoft.ML.Kare.InfiniteWidthNtkRegressionTrainer.Options)).
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
/// | Exportable to ONNX | Yes |
///
/// ### Training Algorithm Details
/// As a network's hidden layers grow infinitely wide in the NTK parametrisation
/// h¹ = (σ_w/√d)·W¹x + β·b¹, h^{l+1} = (σ_w/√n_l)·W^{l+1}φ(h^l) + β·b^{l+1} (all W and b drawn from N(0, 1)),
/// its neural tangent kernel Θ(x, x′) = ∇θ f(x)ᵀ∇θ f(x′) stops depending on the random initialisation and stays
/// constant during training, and gradient descent on the mean squared error becomes kernel regression with Θ. This
/// trainer computes Θ in closed form for ReLU or erf activations and a given number of hidden layers, σ_w
/// (`WeightStandardDeviation`) and β (`BiasStandardDeviation`), and predicts what the trained network predicts on
/// average over initialisations:
///
/// * `TrainingTime` = ∞ (the default): the network trained to convergence, regularised as kernel ridge regression
///   f̂(x) = Θ(x, X)(Θ + nλI)⁻¹y. The ridge is relative to the kernel's size, λ = λ̃·Tr Θ/n², and λ̃ is chosen from
///   `RidgeGrid` by generalised cross-validation (GCV, the KARE objective) from one eigendecomposition of Θ. The
///   kernel is not fitted to the data, so GCV on the training rows is not biased the way it is after KARE training.
/// * finite `TrainingTime` t: gradient descent with learning rate η on the loss (1/2n)‖f − y‖² stopped at time t,
///   f_t(x) = Θ(x, X)Θ⁻¹(I − e^{−ηtΘ/n})y, without ridge; early stopping is the regulariser. Only ηt matters.
///
/// The model stores the standardised training inputs and one dual weight per row; a prediction evaluates the kernel
/// of the row against every training row (O(n·d)), in plain managed code without libtorch. Training holds the n×n
/// kernel: at most `MaximumTrainingRows` rows (10,000 by default). Example weights w give the weighted loss
/// Σ w_i (f(x_i) − y_i)² (kernel S Θ S and targets S y, S = diag(√w)).
///
/// Check the See Also section for links to usage examples.
/// ]]>
/// </format>
/// </remarks>
/// <seealso cref="InfiniteWidthNtkCatalog.InfiniteWidthNtk(RegressionCatalog.RegressionTrainers, string, string, string, InfiniteWidthActivation, int, double)"/>
/// <seealso cref="InfiniteWidthNtkCatalog.InfiniteWidthNtk(RegressionCatalog.RegressionTrainers, InfiniteWidthNtkRegressionTrainer.Options)"/>
/// <seealso cref="Options"/>
public sealed class InfiniteWidthNtkRegressionTrainer : TrainerEstimatorBase<RegressionPredictionTransformer<InfiniteWidthNtkModelParameters>, InfiniteWidthNtkModelParameters>
{
    internal const string LoadNameValue = "InfiniteWidthNtkRegression";
    internal const string UserNameValue = "Infinite-Width Neural Tangent Kernel Regression";
    internal const string ShortName = "iwntk";
    internal const string Summary = "Kernel regression with the analytic neural tangent kernel of an infinitely wide multilayer perceptron: "
        + "kernel ridge regression, or the prediction of gradient descent after a given time.";

    /// <summary>
    /// Options for the <see cref="InfiniteWidthNtkRegressionTrainer"/> as used in
    /// [InfiniteWidthNtk(Options)](xref:Microsoft.ML.InfiniteWidthNtkCatalog.InfiniteWidthNtk(Microsoft.ML.RegressionCatalog.RegressionTrainers,Microsoft.ML.Kare.InfiniteWidthNtkRegressionTrainer.Options)).
    /// </summary>
    public sealed class Options : TrainerInputBaseWithWeight
    {
        /// <summary>The nonlinearity after each hidden layer. The default is <see cref="InfiniteWidthActivation.Relu"/>.</summary>
        public InfiniteWidthActivation Activation = Defaults.Activation;

        /// <summary>The number of hidden layers L (each infinitely wide); 0 is a linear model. The default is 1.</summary>
        public int NumberOfHiddenLayers = Defaults.NumberOfHiddenLayers;

        /// <summary>
        /// σ_w: every layer's weights are N(0, 1) multiplied by σ_w/√(fan-in). The default √2 is He initialisation, which keeps
        /// a ReLU network's pre-activation variance constant across layers; for erf, 1 is a common choice.
        /// </summary>
        public double WeightStandardDeviation = Defaults.WeightStandardDeviation;

        /// <summary>β: every layer's biases are N(0, 1) multiplied by β. The default 0.1 is Jacot et al.'s choice; 0 removes biases.</summary>
        public double BiasStandardDeviation = Defaults.BiasStandardDeviation;

        /// <summary>
        /// The time t of gradient descent on (1/2n)‖f − y‖². <see cref="double.PositiveInfinity"/> (the default) is kernel ridge
        /// regression with the ridge chosen from <see cref="RidgeGrid"/> by generalised cross-validation; a finite time gives
        /// the early-stopped network, with no ridge.
        /// </summary>
        public double TrainingTime = Defaults.TrainingTime;

        /// <summary>The learning rate η of gradient descent, used only with a finite <see cref="TrainingTime"/> (only η·t matters). The default is 1.</summary>
        public double LearningRate = Defaults.LearningRate;

        /// <summary>
        /// Relative ridges λ̃ tried when <see cref="TrainingTime"/> is infinite (absolute ridge λ = λ̃·Tr Θ/n²).
        /// The default is the KARE trainers' grid: 36 values spaced logarithmically from 1e-6 to 10.
        /// </summary>
        public double[] RidgeGrid = Defaults.CreateRidgeGrid();

        /// <summary>
        /// The most training rows accepted (after skipping rows with missing values); more fail at Fit. Training holds the n×n
        /// kernel (8·n² bytes) and eigendecomposes it (O(n³)). The default is 10,000; at most 46,340.
        /// </summary>
        public int MaximumTrainingRows = Defaults.MaximumTrainingRows;

        /// <summary>
        /// Coverage of the prediction intervals, between 0 and 1 (default 0.9): scoring adds the columns
        /// <c>LowerBound</c> and <c>UpperBound</c>, Score ∓ the conformal quantile of the exact leave-one-out residuals
        /// (<see cref="KareIntervalCalibration.LeaveOneOut"/>; the kernel is trained on no row). 0 turns them off. A
        /// finite <see cref="TrainingTime"/> has no exact leave-one-out and gives no intervals.
        /// </summary>
        public double PredictionIntervalCoverage = KareTrainerDefaults.PredictionIntervalCoverage;
    }

    /// <summary>Default values shared by <see cref="Options"/> and the <see cref="InfiniteWidthNtkCatalog"/> overloads.</summary>
    internal static class Defaults
    {
        public const InfiniteWidthActivation Activation = InfiniteWidthActivation.Relu;
        public const int NumberOfHiddenLayers = 1;

        /// <summary>√2: He initialisation, which keeps a ReLU network's pre-activation variance constant across layers.</summary>
        public const double WeightStandardDeviation = 1.4142135623730951;

        /// <summary>0.1, as in Jacot, Gabriel and Hongler's experiments.</summary>
        public const double BiasStandardDeviation = 0.1;

        public const double TrainingTime = double.PositiveInfinity;
        public const double LearningRate = 1.0;

        /// <summary>Θ(X, X) is n×n float64 (800 MB at 10,000 rows) and its eigendecomposition is O(n³).</summary>
        public const int MaximumTrainingRows = 10000;

        /// <summary>The largest n whose n×n kernel fits in one .NET array.</summary>
        public const int LargestMaximumTrainingRows = 46340;

        /// <summary>The KARE trainers' default grid of relative ridges (36 values from 1e-6 to 10).</summary>
        public static double[] CreateRidgeGrid() => KareTrainerDefaults.CreateRidgeGrid();
    }

    private readonly Options _options;

    /// <summary>
    /// Creates an <see cref="InfiniteWidthNtkRegressionTrainer"/> with the key hyperparameters; the other options take their defaults.
    /// </summary>
    internal InfiniteWidthNtkRegressionTrainer(IHostEnvironment env,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        InfiniteWidthActivation activation = Defaults.Activation,
        int numberOfHiddenLayers = Defaults.NumberOfHiddenLayers,
        double trainingTime = Defaults.TrainingTime)
        : this(env, new Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ExampleWeightColumnName = exampleWeightColumnName,
            Activation = activation,
            NumberOfHiddenLayers = numberOfHiddenLayers,
            TrainingTime = trainingTime,
        })
    {
    }

    /// <summary>Creates an <see cref="InfiniteWidthNtkRegressionTrainer"/> from <paramref name="options"/>, which it copies.</summary>
    internal InfiniteWidthNtkRegressionTrainer(IHostEnvironment env, Options options)
        : base(Contracts.CheckRef(env, nameof(env)).Register(LoadNameValue),
            TrainerUtils.MakeR4VecFeature(KareTraining.CheckColumnOptions(env, options).FeatureColumnName),
            TrainerUtils.MakeR4ScalarColumn(options.LabelColumnName),
            TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
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
        => KareTraining.RegressionOutputColumns(HasIntervals(_options));

    /// <summary>Intervals need a coverage and kernel ridge regression (t = ∞), whose leave-one-out residuals are exact.</summary>
    private static bool HasIntervals(Options options)
        => options.PredictionIntervalCoverage > 0 && double.IsPositiveInfinity(options.TrainingTime);

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
    protected override InfiniteWidthNtkModelParameters TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        RoleMappedData data = context.TrainingSet;
        data.CheckRegressionLabel();
        data.CheckFeatureFloatVector(out int featureCount);
        data.CheckOptFloatWeight();

        using IChannel ch = Host.Start("Training");
        KareTrainingData rows = KareTraining.ReadRows(Host, ch, data, featureCount, KareTargetEncoding.Regression);
        if (rows.RowCount > _options.MaximumTrainingRows)
        {
            throw ch.ExceptUserArg(nameof(Options.MaximumTrainingRows),
                $"{rows.RowCount} usable training rows exceed {nameof(Options.MaximumTrainingRows)} ({_options.MaximumTrainingRows}): the infinite-width NTK "
                + $"trainer holds the n×n kernel ({8.0 * rows.RowCount * rows.RowCount / 1e9:G3} GB) and eigendecomposes it. "
                + $"Subsample the training rows, or raise {nameof(Options.MaximumTrainingRows)} (at most {Defaults.LargestMaximumTrainingRows}).");
        }
        if (rows.Weights is not null && !(rows.Weights.Sum() > 0))
            throw ch.Except($"The example weights in column '{data.Schema.Weight!.Value.Name}' sum to zero over the usable training rows.");
        return Fit(Host, ch, rows, _options);
    }

    /// <inheritdoc/>
    protected override RegressionPredictionTransformer<InfiniteWidthNtkModelParameters> MakeTransformer(InfiniteWidthNtkModelParameters model, DataViewSchema trainSchema)
        => new RegressionPredictionTransformer<InfiniteWidthNtkModelParameters>(Host, model, trainSchema, FeatureColumn.Name);

    /// <summary>
    /// Standardises the rows, builds Θ(X, X), solves for the dual weights (kernel ridge regression with λ̃ by GCV, or
    /// gradient flow to a finite time) and logs what was done.
    /// </summary>
    internal static InfiniteWidthNtkModelParameters Fit(IHost host, IChannel ch, KareTrainingData rows, Options options)
    {
        var stopwatch = Stopwatch.StartNew();
        int n = rows.RowCount;
        int d = rows.FeatureCount;
        double[]? weights = Standardization.NormalizedWeights(rows.Weights);
        var (featureMeans, featureScales) = Standardization.ColumnStatistics(rows.Features, n, d, weights);
        var (labelMeans, labelScales) = Standardization.ColumnStatistics(rows.Targets, n, 1, weights);
        double[] inputs = Standardization.Apply(rows.Features, n, d, featureMeans, featureScales);
        double[] targets = Standardization.Apply(rows.Targets, n, 1, labelMeans, labelScales);

        var kernel = new InfiniteWidthNtk(options.Activation, options.NumberOfHiddenLayers, options.WeightStandardDeviation, options.BiasStandardDeviation);
        InfiniteWidthNtk.PreparedRows prepared = kernel.Prepare(inputs, n, d);
        double[] theta = kernel.Ntk(prepared, prepared, host.CheckAlive);
        host.CheckAlive();
        InfiniteWidthKernelRegression.Solution solution;
        using (TorchRuntime.BeginFit(threads: 0, host.CheckAlive))
            solution = InfiniteWidthKernelRegression.Solve(theta, targets, weights, n, options.TrainingTime, options.LearningRate, options.RidgeGrid,
                host.CheckAlive, leaveOneOut: HasIntervals(options));
        KarePredictionInterval? interval = null;
        if (solution.LeaveOneOutPredictions is double[] loo)
        {
            var residuals = new List<double>(n);
            for (int i = 0; i < n; i++)
            {
                if (double.IsFinite(loo[i]))
                    residuals.Add(Math.Abs(targets[i] - loo[i]) * labelScales[0]);
            }
            interval = IntervalCalibration.FromResiduals(residuals, options.PredictionIntervalCoverage, KareIntervalCalibration.LeaveOneOut);
            ch.Info($"Infinite-width NTK: {interval}.");
        }

        string network = $"{options.Activation} network with {options.NumberOfHiddenLayers} hidden layer(s), σ_w = {options.WeightStandardDeviation:G4}, β = {options.BiasStandardDeviation:G4}";
        ch.Info(double.IsPositiveInfinity(options.TrainingTime)
            ? $"Infinite-width NTK of a {network}: kernel ridge regression (t = ∞) on {n} rows × {d} features; relative ridge λ̃ = {solution.RelativeRidge:G3} "
              + $"(λ = {solution.Ridge:G3}) chosen by GCV = {solution.GeneralizedCrossValidation:G4} (standardised label units); {stopwatch.Elapsed.TotalSeconds:F1} s."
            : $"Infinite-width NTK of a {network}: gradient descent to time t = {options.TrainingTime:G4} with learning rate η = {options.LearningRate:G4}, "
              + $"no ridge, on {n} rows × {d} features; training MSE {solution.TrainingError:G4} (standardised label units); {stopwatch.Elapsed.TotalSeconds:F1} s.");

        return new InfiniteWidthNtkModelParameters(host, options.Activation, options.NumberOfHiddenLayers, options.WeightStandardDeviation,
            options.BiasStandardDeviation, featureMeans, featureScales, labelMeans[0], labelScales[0], inputs, solution.DualWeights,
            options.TrainingTime, options.LearningRate, solution.RelativeRidge, solution.Ridge, interval);
    }

    /// <summary>Checks every training option (one line per option), naming the option on failure.</summary>
    private static void CheckOptions(IHost host, Options options)
    {
        host.CheckUserArg(Enum.IsDefined(options.Activation), nameof(options.Activation), "Must be a defined InfiniteWidthActivation value.");
        KareTraining.CheckIntervalCoverage(host, options.PredictionIntervalCoverage);
        host.CheckUserArg(options.NumberOfHiddenLayers >= 0 && options.NumberOfHiddenLayers <= InfiniteWidthNtk.MaximumHiddenLayerCount, nameof(options.NumberOfHiddenLayers), $"Must be between 0 (a linear model) and {InfiniteWidthNtk.MaximumHiddenLayerCount}.");
        host.CheckUserArg(options.WeightStandardDeviation > 0 && double.IsFinite(options.WeightStandardDeviation), nameof(options.WeightStandardDeviation), "Must be a positive finite number.");
        host.CheckUserArg(options.BiasStandardDeviation >= 0 && double.IsFinite(options.BiasStandardDeviation), nameof(options.BiasStandardDeviation), "Must be a non-negative finite number.");
        host.CheckUserArg(options.TrainingTime > 0, nameof(options.TrainingTime), "Must be positive: a finite time, or double.PositiveInfinity for kernel ridge regression.");
        host.CheckUserArg(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(options.LearningRate), "Must be a positive finite number.");
        host.CheckUserArg(options.RidgeGrid is { Length: > 0 } && options.RidgeGrid.All(r => r > 0 && double.IsFinite(r)), nameof(options.RidgeGrid), "Must list at least one relative ridge, each a positive finite number (λ = λ̃·Tr Θ/n²).");
        host.CheckUserArg(options.MaximumTrainingRows > 0 && options.MaximumTrainingRows <= Defaults.LargestMaximumTrainingRows, nameof(options.MaximumTrainingRows), $"Must be between 1 and {Defaults.LargestMaximumTrainingRows} (the n×n kernel must fit in one array).");
    }

    /// <summary>A copy, so that later changes to the caller's options (and arrays) do not change the trainer.</summary>
    private static Options Copy(Options options) => new()
    {
        LabelColumnName = options.LabelColumnName,
        FeatureColumnName = options.FeatureColumnName,
        ExampleWeightColumnName = options.ExampleWeightColumnName,
        Activation = options.Activation,
        NumberOfHiddenLayers = options.NumberOfHiddenLayers,
        WeightStandardDeviation = options.WeightStandardDeviation,
        BiasStandardDeviation = options.BiasStandardDeviation,
        TrainingTime = options.TrainingTime,
        LearningRate = options.LearningRate,
        RidgeGrid = options.RidgeGrid.ToArray(),
        MaximumTrainingRows = options.MaximumTrainingRows,
        PredictionIntervalCoverage = options.PredictionIntervalCoverage,
    };

}
