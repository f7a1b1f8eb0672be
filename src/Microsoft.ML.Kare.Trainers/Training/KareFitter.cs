using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Backend;

/// <summary>
/// Trains an MLP's empirical NTK by minimising the KARE objective on training rows, freezes it, and fits kernel ridge
/// regression with it (kare.md §4), returning the model in primal form (§5).
/// </summary>
/// <remarks>
/// Procedure: standardise features and targets; with <see cref="KareRidgeSelection.HoldOut"/>, hold out a fraction of
/// the rows, train the kernel on the rest, and after every epoch measure the held-out error of KRR at every λ̃ of the
/// grid, keeping the best (epoch, λ̃); then refit KRR with that frozen kernel on all rows. With
/// <see cref="KareRidgeSelection.GeneralizedCrossValidation"/>, train on all rows and pick λ̃ by GCV at the end.
/// Row weights w enter as K_w = S K S, y_w = S y with S = diag(√(w/mean w)), which turns KRR and KARE into their
/// weighted forms.
/// </remarks>
internal static class KareFitter
{
    /// <summary>Held-out and fit parts each need at least this many rows for the hold-out procedure.</summary>
    internal const int MinimumHoldOutRows = 10;

    /// <summary>At most this many fit rows form the KRR basis when measuring held-out error during training.</summary>
    internal const int MaximumValidationBasisRows = 2000;

    /// <summary>Above this many rows the full-batch default switches to mini-batches of this size.</summary>
    internal const int AutomaticBatchRows = 2048;

    /// <summary>
    /// At most this many rows are ever solved in kernel space: the final fit holds about four n×n float64 matrices
    /// (3 GB at this size; 8.8 GB peak was measured at 16,000 rows).
    /// </summary>
    internal const int DefaultMaximumKernelRows = 10000;

    /// <summary>
    /// Above this many rows the final fit moves to parameter space as soon as the network has fewer parameters than
    /// rows: O(n·P²) time and O(P²) memory instead of O(n³) and O(n²), with the same β.
    /// </summary>
    internal const int ParameterSpacePreferredRows = 4096;

    /// <summary>The parameter-space fit holds a P×P matrix (and its factor): at most this many parameters.</summary>
    internal const long MaximumParameterSpaceParameters = 12288;

    /// <summary>
    /// Probes of the stochastic KARE gradient used by default for mini-batch training. On the simulation with
    /// mini-batches of 1,024 rows it gave a lower test error than the exact gradient (0.0014 against 0.0042, 3 seeds) in
    /// 60% of the time; on full batches 64 probes matched the exact gradient (0.0123 against 0.0136, 5 seeds), but the
    /// exact gradient stays the full-batch default.
    /// </summary>
    internal const int AutomaticStochasticProbes = 64;

    /// <summary>
    /// The automatic early-stopping patience, in epochs: none for full-batch training (one step per epoch, the paper's
    /// protocol), and for mini-batches about <see cref="AutomaticPatienceSteps"/> optimiser steps (at least
    /// <see cref="EveryEpochValidations"/> epochs) without a better held-out error. On diamonds (21 mini-batches per
    /// epoch) the held-out error was best near epoch 20 and rose to 3.5× that by epoch 70, so the 100 epochs of the
    /// full-batch protocol spent most of the fit after the kept epoch.
    /// </summary>
    internal static int AutomaticPatience(int batchesPerEpoch)
        => batchesPerEpoch <= 1 ? 0 : Math.Max(EveryEpochValidations, (AutomaticPatienceSteps + batchesPerEpoch - 1) / batchesPerEpoch);

    /// <summary>Optimiser steps without a better held-out error after which mini-batch training stops by default.</summary>
    internal const int AutomaticPatienceSteps = 400;

    /// <summary>The held-out error is measured after each of the first this many epochs, then on a coarser schedule.</summary>
    internal const int EveryEpochValidations = 10;

    /// <summary>After the first epochs, the automatic schedule measures the held-out error about this many more times.</summary>
    internal const int ScheduledValidations = 20;

    /// <summary>Relative decrease of the training objective that counts as progress for early stopping without a hold-out.</summary>
    internal const double PlateauRelativeImprovement = 1e-3;

    /// <summary>
    /// Whether the held-out error is measured after <paramref name="epoch"/> (of <paramref name="epochs"/>): always for the
    /// first <see cref="EveryEpochValidations"/> epochs and the last; in between every <paramref name="interval"/> epochs,
    /// or with 0 every max(1, epochs / <see cref="ScheduledValidations"/>). The measurement (an eigendecomposition of the
    /// basis kernel and a cross kernel) costs about as much as a full-batch step, so measuring it after every one of 100
    /// epochs doubled the fit time; the schedule keeps the choice of epoch within a few percent of the run.
    /// </summary>
    internal static bool IsValidationEpoch(int epoch, int epochs, int interval)
    {
        if (epoch <= EveryEpochValidations || epoch == epochs)
            return true;
        int every = interval > 0 ? interval : Math.Max(1, epochs / ScheduledValidations);
        return epoch % every == 0;
    }

    /// <summary>
    /// Steps of at most this many rows run on one libtorch thread unless <see cref="KareFitSettings.ThreadCount"/> says
    /// otherwise: their matrix operations are too small to repay waking other threads. On 2 cores, 100-epoch fits took
    /// 0.18 s on one thread against 0.37 s on two at 150 rows (120 per step), 0.75 against 1.19 s at 350 rows, and
    /// 1.66 against 2.13 s at 350 rows with a 2 × 128 network; at 800 rows (640 per step) two threads were 7% faster and
    /// at 1,500 rows 18% faster.
    /// </summary>
    internal const int SingleThreadStepRows = 512;

    /// <summary>Rows per block when accumulating JᵀJ in parameter space.</summary>
    private const int ParameterSpaceBlockRows = 1024;

    public static KareFitResult Fit(KareTrainingData data, KareFitSettings settings, ITrainingMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(monitor);
        int n = data.RowCount;
        int d = data.FeatureCount;
        int c = data.TargetCount;
        if (n < 2)
            throw new ArgumentException($"KARE needs at least 2 training rows, got {n}.", nameof(data));
        TorchRuntime.Initialize();

        var stopwatch = Stopwatch.StartNew();
        var random = new Random(settings.Seed);
        double[]? weights = Standardization.NormalizedWeights(data.Weights);
        var (featureMeans, featureScales) = Standardization.ColumnStatistics(data.Features, n, d, weights);
        var (targetMeans, targetScales) = Standardization.ColumnStatistics(data.Targets, n, c, weights);
        double[] features = Standardization.Apply(data.Features, n, d, featureMeans, featureScales);
        double[] targets = Standardization.Apply(data.Targets, n, c, targetMeans, targetScales);

        KareMethod method = settings.Method;
        bool kernelReadout = method is not (KareMethod.NeuralNetwork or KareMethod.IterativeLinearizationNetwork);
        bool linearized = method is KareMethod.IterativeLinearizationKernel or KareMethod.IterativeLinearizationNetwork;
        bool trainedByMse = method is not (KareMethod.Kare or KareMethod.NtkAtInitialization);
        if (trainedByMse && c > 1)
            throw new NotSupportedException($"The method {method} trains the network's single output by mean squared error, so it supports one target " +
                                            $"(regression or binary classification), not {c}. Use {KareMethod.Kare} or {KareMethod.NtkAtInitialization}.");
        int epochs = method == KareMethod.NtkAtInitialization ? 0 : settings.Epochs;
        double learningRate = trainedByMse ? settings.MeanSquaredErrorLearningRate : settings.LearningRate;

        var architecture = new KareNetworkArchitecture(d, settings.HiddenWidths, settings.Activation);
        bool parameterSpace = kernelReadout && n > settings.MaximumKernelRows
            || (n > ParameterSpacePreferredRows && architecture.ParameterCount < n && architecture.ParameterCount <= MaximumParameterSpaceParameters
                && settings.RidgeSelection == KareRidgeSelection.HoldOut);
        if (parameterSpace && architecture.ParameterCount > MaximumParameterSpaceParameters)
            throw new NotSupportedException(
                $"{n} training rows are too many for a kernel-space fit (at most {settings.MaximumKernelRows} rows) and the network's {architecture.ParameterCount} parameters are too many for a parameter-space fit (at most {MaximumParameterSpaceParameters}). " +
                "Use narrower hidden layers, fewer features, or subsample the training data.");
        int[] order = Permutation(n, random);
        bool holdOut = settings.RidgeSelection == KareRidgeSelection.HoldOut;
        if (kernelReadout && parameterSpace && !holdOut)
        {
            monitor.Warning($"{n} training rows: generalised cross-validation needs the n×n kernel; choosing λ̃ and the epoch on held-out rows instead.");
            holdOut = true;
        }
        if (kernelReadout)
            monitor.Info(parameterSpace
            ? $"KARE: the final ridge regression is solved in parameter space ({architecture.ParameterCount}×{architecture.ParameterCount} for {n} rows)."
            : $"KARE: the final ridge regression is solved in kernel space ({n}×{n}).");
        int validationRows = holdOut ? (int)Math.Round(settings.ValidationFraction * n) : 0;
        if (holdOut && (validationRows < MinimumHoldOutRows || n - validationRows < MinimumHoldOutRows))
        {
            monitor.Warning($"{n} training rows are too few to hold out {settings.ValidationFraction:P0} for choosing the ridge and epoch; " +
                            "using generalised cross-validation on all rows instead.");
            holdOut = false;
            validationRows = 0;
        }

        int[] validationIndex = order.Take(validationRows).ToArray();
        int[] fitIndex = order.Skip(validationRows).ToArray();
        monitor.Info($"KARE ({MethodDescription(method)}): {architecture} ({architecture.ParameterCount} parameters), {fitIndex.Length} rows to train on" +
                     (holdOut ? $", {validationRows} held out to choose " + (kernelReadout ? "λ̃ and the epoch." : "the epoch.")
                              : kernelReadout ? ", λ̃ by GCV." : "."));

        int batchRows = settings.BatchSize > 0 ? settings.BatchSize : AutomaticBatchRows;
        long estimate = KareMemoryEstimate.PeakBytes(n, d, c, architecture, method, Math.Min(batchRows, fitIndex.Length), validationRows,
            Math.Min(fitIndex.Length, MaximumValidationBasisRows), parameterSpace, settings.ComputeLeaveOneOutPredictions);
        monitor.Info($"KARE: estimated peak memory {KareMemoryEstimate.Format(estimate)} (budget {KareMemoryEstimate.Format(settings.MemoryBudgetBytes)}).");
        if (estimate > settings.MemoryBudgetBytes)
        {
            throw new InsufficientMemoryException(
                $"Training would need about {KareMemoryEstimate.Format(estimate)}, more than the memory budget of {KareMemoryEstimate.Format(settings.MemoryBudgetBytes)} " +
                $"(option MaximumMemoryMegabytes; by default three quarters of this machine's memory). {n} rows, a {architecture} network with {architecture.ParameterCount} parameters, " +
                $"{Math.Min(batchRows, fitIndex.Length)} rows per step, final fit in " + (parameterSpace ? "parameter space." : "kernel space.") +
                " Use a smaller BatchSize, narrower hidden layers, fewer training rows, or raise MaximumMemoryMegabytes.");
        }

        int stepRows = Math.Min(batchRows, fitIndex.Length);
        int threads = settings.ThreadCount > 0 ? settings.ThreadCount : stepRows <= SingleThreadStepRows ? 1 : 0;
        if (settings.ThreadCount <= 0 && threads == 1)
            monitor.Info($"KARE: one libtorch thread for {stepRows}-row steps (small problems train faster without waking other threads).");
        using var threadCount = TorchRuntime.UseThreads(threads);

        using var all = new RowSet(features, targets, weights, d, c, Enumerable.Range(0, n).ToArray());
        using var fit = new RowSet(features, targets, weights, d, c, fitIndex);
        using var validation = holdOut ? new RowSet(features, targets, weights, d, c, validationIndex) : null;
        using var basis = holdOut && fitIndex.Length > MaximumValidationBasisRows
            ? new RowSet(features, targets, weights, d, c, fitIndex.Take(MaximumValidationBasisRows).ToArray())
            : null;
        RowSet validationBasis = basis ?? fit;

        using var network = MlpNetwork.Initialize(architecture, random);
        using var optimizer = ParameterOptimizer.Create(settings.Optimizer, network.Parameters, learningRate);
        using var linearization = linearized ? new IterativeLinearization(architecture, settings.RelinearizationInterval) : null;
        int batchCount = Math.Max(1, (int)Math.Ceiling(fitIndex.Length / (double)batchRows));
        int probes = settings.StochasticProbes ?? (batchCount > 1 ? AutomaticStochasticProbes : 0);
        int patience = settings.EarlyStoppingPatience ?? AutomaticPatience(batchCount);
        if (method == KareMethod.Kare && probes > 0)
            monitor.Info($"KARE: stochastic gradient with {probes} probes for A² ({batchCount} mini-batches of about {fitIndex.Length / batchCount} rows).");
        using var stepEngine = new KareStepEngine { StochasticProbes = probes, ProbeSeed = settings.Seed };

        var curve = new List<KareEpochSummary>(epochs + 1);
        double[] initialParameters = network.GetParameters();
        double[] bestParameters = initialParameters;
        double[] bestAnchor = initialParameters;
        int bestEpoch = 0;
        double bestError = double.PositiveInfinity;
        double bestRelativeRidge = double.NaN;
        double[] lastEpochStart = initialParameters;

        // One optimiser step of the method's training objective on a batch; returns the objective before the update.
        double TrainStep(RowSet batch, bool batchIsFixed) => method switch
        {
            KareMethod.Kare => stepEngine.Step(network, optimizer, batch, settings.TrainingRelativeRidge),
            KareMethod.AfterKernel or KareMethod.NeuralNetwork => MseStep.Run(network, optimizer, batch),
            _ => linearization!.Step(network, optimizer, batch, batchIsFixed),
        };
        double[] CurrentAnchor() => linearization?.AnchorParameters ?? network.GetParameters();
        double[] ReadoutPredictions(RowSet rows) => linearized
            ? IterativeLinearization.Predict(architecture, CurrentAnchor(), network.GetParameters(), rows.Features)
            : MseStep.Predict(network, rows.Features);
        double ObjectiveOnRows(RowSet rows)
        {
            if (method == KareMethod.Kare || method == KareMethod.NtkAtInitialization)
                return KareOnRows(network, rows, settings.TrainingRelativeRidge); // disposes rows
            using (rows)
                return MeanSquaredError(ReadoutPredictions(rows), rows);
        }

        double bestObjective = double.PositiveInfinity;
        int bestObjectiveEpoch = 0;
        for (int epoch = 0; epoch <= epochs; epoch++)
        {
            monitor.CheckAlive();
            double kare;
            double[] parametersBeforeEpoch = epoch == 0 ? initialParameters : network.GetParameters();
            if (epoch == 0)
            {
                kare = ObjectiveOnRows(fit.Take(Math.Min(fitIndex.Length, batchRows)));
            }
            else
            {
                double sum = 0;
                if (batchCount == 1)
                {
                    // Full batch: the same rows every epoch, so their cached X Xᵀ + 1 serves the whole fit.
                    sum = TrainStep(fit, batchIsFixed: true);
                    monitor.CheckAlive();
                }
                else
                {
                    foreach (RowSet batch in fit.Batches(batchCount, random))
                    {
                        using (batch)
                            sum += TrainStep(batch, batchIsFixed: false);
                        monitor.CheckAlive();
                    }
                }
                kare = sum / batchCount;
            }

            double validationError = double.NaN;
            double validationRidge = double.NaN;
            bool diverged = !double.IsFinite(kare) || !network.IsFinite();
            bool validate = holdOut && IsValidationEpoch(epoch, epochs, settings.ValidationInterval);
            if (!diverged && validate)
            {
                (validationError, validationRidge) = kernelReadout
                    ? BestValidationError(network, validationBasis, validation!, settings.RelativeRidgeGrid)
                    : (MeanSquaredError(ReadoutPredictions(validation!), validation!), double.NaN);
                diverged = !double.IsFinite(validationError);
            }
            if (diverged)
            {
                if (epoch == 0)
                    throw new InvalidOperationException($"The training objective is {kare} at initialisation: the training data give a non-finite kernel or network output.");
                if (!holdOut)
                {
                    // ρ of an epoch is measured at the parameters it started from: if it is finite the last update broke the
                    // kernel, so keep those; if not, they were already broken, so keep where the previous epoch started.
                    bool startWasGood = double.IsFinite(kare);
                    bestParameters = startWasGood ? parametersBeforeEpoch : lastEpochStart;
                    bestAnchor = bestParameters;
                    bestEpoch = Math.Max(0, startWasGood ? epoch - 1 : epoch - 2);
                }
                monitor.Warning($"Training diverged at epoch {epoch} (objective {kare}, a non-finite kernel or parameters); stopped there and kept epoch {bestEpoch}. " +
                                $"Lower the learning rate (now {learningRate}) or use the Adam optimizer.");
                break;
            }

            if (holdOut)
            {
                if (validate && validationError < bestError)
                {
                    bestError = validationError;
                    bestRelativeRidge = validationRidge;
                    bestEpoch = epoch;
                    bestParameters = network.GetParameters();
                    bestAnchor = linearized ? CurrentAnchor() : bestParameters;
                }
            }
            else
            {
                bestEpoch = epoch;
                bestParameters = network.GetParameters();
                bestAnchor = linearized ? CurrentAnchor() : bestParameters;
            }

            lastEpochStart = parametersBeforeEpoch;
            var summary = new KareEpochSummary(epoch, kare, validationError, validationRidge);
            curve.Add(summary);
            monitor.EpochCompleted(summary, epochs);

            if (patience > 0 && epoch < epochs)
            {
                // Hold-out: no better held-out error for `patience` epochs. Otherwise: the training objective has not
                // improved by a relative 1e-3 for `patience` epochs (a plateau).
                if (!holdOut && kare < bestObjective * (1 - PlateauRelativeImprovement))
                {
                    bestObjective = kare;
                    bestObjectiveEpoch = epoch;
                }
                int lastImprovement = holdOut ? bestEpoch : bestObjectiveEpoch;
                if (epoch - lastImprovement >= patience && (!holdOut || validate))
                {
                    monitor.Info($"Early stopping at epoch {epoch}: " + (holdOut ? "the held-out error" : "the training objective") +
                                 $" has not improved since epoch {lastImprovement}.");
                    break;
                }
            }
        }

        network.SetParameters(bestParameters);
        linearization?.Relinearize(bestAnchor);
        if (!holdOut && bestEpoch == epochs && epochs > 0
            && !double.IsFinite(ObjectiveOnRows(fit.Take(Math.Min(fitIndex.Length, batchRows)))))
        {
            // The last update was never evaluated: its kernel overflowed, so keep the parameters the last epoch started from.
            monitor.Warning($"Training diverged in its last epoch; kept epoch {epochs - 1}. Lower the learning rate (now {learningRate}).");
            bestEpoch = epochs - 1;
            bestParameters = lastEpochStart;
            bestAnchor = bestParameters;
            network.SetParameters(bestParameters);
            linearization?.Relinearize(bestAnchor);
        }
        var (relativeRidge, ridge, primalWeights, leaveOneOut) = !kernelReadout
            ? NetworkReadout(bestAnchor, bestParameters, settings.ComputeLeaveOneOutPredictions ? ReadoutPredictions(all) : null)
            : parameterSpace
            ? FinalFitInParameterSpace(network, all, bestRelativeRidge, settings.ComputeLeaveOneOutPredictions)
            : FinalFit(network, all, holdOut ? bestRelativeRidge : double.NaN, settings.RelativeRidgeGrid, settings.ComputeLeaveOneOutPredictions);
        monitor.Info($"KARE ({MethodDescription(method)}): kept epoch {bestEpoch}" + (holdOut ? $" (held-out MSE {bestError:G4} in standardised units)" : string.Empty) +
                     (kernelReadout ? $", λ̃ = {relativeRidge:G3} (λ = {ridge:G3})" : string.Empty) + $"; trained in {stopwatch.Elapsed.TotalSeconds:F1} s.");

        return new KareFitResult
        {
            Method = method,
            Architecture = architecture,
            Parameters = kernelReadout ? bestParameters : bestAnchor,
            PrimalWeights = primalWeights,
            OutputCount = c,
            FeatureMeans = featureMeans,
            FeatureScales = featureScales,
            TargetMeans = targetMeans,
            TargetScales = targetScales,
            RelativeRidge = relativeRidge,
            Ridge = ridge,
            SelectedEpoch = bestEpoch,
            TrainingCurve = curve,
            LeaveOneOutPredictions = leaveOneOut is null ? null : Unstandardize(leaveOneOut, n, c, targetMeans, targetScales),
        };
    }

    /// <summary>
    /// The model of a method that predicts with the (linearised) network: θ_k as the network parameters and β = θ − θ_k
    /// (zero for the network itself), so that f(x; θ_k) + ∇θ f(x; θ_k)ᵀβ is the prediction; no ridge.
    /// </summary>
    private static (double RelativeRidge, double Ridge, double[] PrimalWeights, double[]? TrainingPredictions) NetworkReadout(
        double[] anchor, double[] parameters, double[]? trainingPredictions)
    {
        var step = new double[parameters.Length];
        for (int i = 0; i < step.Length; i++)
            step[i] = parameters[i] - anchor[i];
        return (0, 0, step, trainingPredictions);
    }

    /// <summary>Weighted mean squared error of one-output predictions against the rows' targets (standardised units).</summary>
    private static double MeanSquaredError(double[] predictions, RowSet rows)
    {
        double[] targets;
        double[]? weights;
        using (torch.NewDisposeScope()) // the views below would otherwise be left to the finalizer
        {
            targets = rows.Targets.select(1, 0).contiguous().data<double>().ToArray();
            weights = rows.Weights?.contiguous().data<double>().ToArray();
        }
        double sum = 0, total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double w = weights?[i] ?? 1.0;
            double r = predictions[i] - targets[i];
            sum += w * r * r;
            total += w;
        }
        return total > 0 ? sum / total : double.NaN;
    }

    private static string MethodDescription(KareMethod method) => method switch
    {
        KareMethod.Kare => "kernel trained by KARE",
        KareMethod.AfterKernel => "after-kernel: network trained by MSE, then its kernel",
        KareMethod.NeuralNetwork => "network trained by MSE, predicting itself",
        KareMethod.NtkAtInitialization => "kernel of the network at initialisation",
        KareMethod.IterativeLinearizationKernel => "iterative linearisation, then the final kernel",
        KareMethod.IterativeLinearizationNetwork => "iterative linearisation, predicting with the linearised network",
        _ => method.ToString(),
    };

    /// <summary>mean + scale·value column by column, in place; returns <paramref name="values"/> (row-major rows×columns).</summary>
    private static double[] Unstandardize(double[] values, int rows, int columns, double[] means, double[] scales)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
                values[(long)i * columns + j] = means[j] + scales[j] * values[(long)i * columns + j];
        }
        return values;
    }

    /// <summary>
    /// One KARE step on a batch: ρ and dρ/dK in closed form, then dρ/dθ by the hand-written contraction with the
    /// structured kernel's derivative (<see cref="KareStepEngine"/>), then the update. Returns ρ before the update.
    /// </summary>
    internal static double KareStep(MlpNetwork network, ParameterOptimizer optimizer, RowSet batch, double relativeRidge)
    {
        using var engine = new KareStepEngine();
        return engine.Step(network, optimizer, batch, relativeRidge);
    }

    private static double KareOnRows(MlpNetwork network, RowSet rows, double relativeRidge)
    {
        using (rows)
        using (var noGrad = torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            NetworkFeatures features = network.Features(rows.Features);
            Tensor kernel = rows.WeightKernel(StructuredNtk.Compute(features, features));
            return IsFinite(kernel) ? KareObjective.Value(kernel, rows.WeightedTargets, relativeRidge) : double.NaN;
        }
    }

    /// <summary>The lowest held-out MSE over the ridge grid of KRR on <paramref name="basis"/>, and its λ̃.</summary>
    private static (double Error, double RelativeRidge) BestValidationError(MlpNetwork network, RowSet basis, RowSet validation, IReadOnlyList<double> grid)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        NetworkFeatures basisFeatures = network.Features(basis.Features);
        NetworkFeatures validationFeatures = network.Features(validation.Features);
        Tensor kernel = basis.WeightKernel(StructuredNtk.ComputeDetached(basisFeatures, basisFeatures));
        Tensor cross = basis.WeightColumns(StructuredNtk.ComputeDetached(validationFeatures, basisFeatures));
        if (!IsFinite(kernel) || !IsFinite(cross))
            return (double.NaN, double.NaN);
        using var path = new SpectralRidgePath(kernel, basis.WeightedTargets);
        double[] errors = path.ValidationError(cross, validation.Targets, validation.Weights, grid);
        int best = ArgMin(errors);
        return (errors[best], grid[best]);
    }

    /// <summary>
    /// KRR on all rows with the frozen kernel; λ̃ given, or chosen by GCV when NaN. Returns β = Jᵀ S α and, when asked,
    /// the leave-one-out predictions (n×c row-major, standardised units; NaN for rows of weight 0).
    /// </summary>
    private static (double RelativeRidge, double Ridge, double[] PrimalWeights, double[]? LeaveOneOut) FinalFit(MlpNetwork network, RowSet all,
        double relativeRidge, IReadOnlyList<double> grid, bool leaveOneOut)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        NetworkFeatures features = network.Features(all.Features);
        Tensor kernel = all.WeightKernel(StructuredNtk.ComputeDetached(features, features));
        if (double.IsNaN(relativeRidge))
        {
            using var path = new SpectralRidgePath(kernel, all.WeightedTargets);
            relativeRidge = grid[ArgMin(path.GeneralizedCrossValidation(grid))];
        }
        double ridge = KernelRidge.AbsoluteRidge(kernel, relativeRidge);
        Tensor alpha = KernelRidge.DualWeights(kernel, all.WeightedTargets, ridge);
        double[] primal = StructuredNtk.TransposedJacobianTimes(features, all.WeightRows(alpha));
        if (primal.Any(v => !double.IsFinite(v)))
            throw new ArithmeticException($"The kernel ridge regression produced non-finite weights at λ̃ = {relativeRidge}. The kernel is numerically singular; use a larger ridge grid.");
        double[]? looPredictions = leaveOneOut
            ? KernelRidgeLeaveOneOut.Predictions(kernel, all.Targets, all.WeightedTargets, all.Weights, ridge).contiguous().data<double>().ToArray()
            : null;
        return (relativeRidge, ridge, primal, looPredictions);
    }

    /// <summary>
    /// The final fit in parameter space (kare.md §5), for n too large for K: β = (JᵀS²J + nλI)⁻¹JᵀS²Y with J accumulated
    /// over blocks of rows; the same β as the kernel-space fit. Leave-one-out predictions, when asked, come from the
    /// leverages h_i = s_i² j_iᵀ(JᵀS²J + nλI)⁻¹ j_i.
    /// </summary>
    private static (double RelativeRidge, double Ridge, double[] PrimalWeights, double[]? LeaveOneOut) FinalFitInParameterSpace(MlpNetwork network,
        RowSet all, double relativeRidge, bool leaveOneOut)
    {
        using var noGrad = torch.no_grad();
        long n = all.Count;
        long outputs = all.Targets.shape[1];
        using var solver = new ParameterSpaceRidge(network.Architecture.ParameterCount, outputs);
        foreach (var (rows, targets, _, _) in ParameterSpaceBlocks(network, all))
        {
            using (rows)
            using (targets)
                solver.Accumulate(rows, targets);
        }
        var (weights, ridge) = solver.Solve(relativeRidge);
        double[] primal = weights.t().contiguous().data<double>().ToArray();
        if (primal.Any(v => !double.IsFinite(v)))
            throw new ArithmeticException($"The parameter-space ridge regression produced non-finite weights at λ̃ = {relativeRidge}; use a larger ridge grid.");
        if (!leaveOneOut)
            return (relativeRidge, ridge, primal, null);

        var predictions = new double[n * outputs];
        foreach (var (rows, weightedTargets, start, length) in ParameterSpaceBlocks(network, all))
        {
            using var scope = torch.NewDisposeScope();
            rows.MoveToOuterDisposeScope();
            weightedTargets.MoveToOuterDisposeScope();
            Tensor leverage = solver.Leverages(rows).unsqueeze(1);
            Tensor residual = (weightedTargets - rows.mm(weights)) / (1.0 - leverage);
            Tensor targets = all.Targets.narrow(0, start, length);
            if (all.Scales is not null)
            {
                Tensor scales = all.Scales.narrow(0, start, length).unsqueeze(1);
                residual = torch.where(scales > 0, residual / scales, torch.full_like(residual, double.NaN));
            }
            double[] block = (targets - residual).contiguous().data<double>().ToArray();
            Array.Copy(block, 0, predictions, start * outputs, block.Length);
            rows.Dispose();
            weightedTargets.Dispose();
        }
        return (relativeRidge, ridge, primal, predictions);
    }

    /// <summary>Blocks of weighted Jacobian rows S_b J_b and weighted targets S_b Y_b, with the block's first row and length.</summary>
    private static IEnumerable<(Tensor Rows, Tensor WeightedTargets, long Start, long Length)> ParameterSpaceBlocks(MlpNetwork network, RowSet all)
    {
        long n = all.Count;
        for (long start = 0; start < n; start += ParameterSpaceBlockRows)
        {
            long length = Math.Min(ParameterSpaceBlockRows, n - start);
            Tensor rows;
            Tensor targets;
            using (var scope = torch.NewDisposeScope())
            {
                NetworkFeatures features = network.Features(all.Features.narrow(0, start, length));
                rows = StructuredNtk.JacobianRows(features);
                if (all.Scales is not null)
                    rows = rows * all.Scales.narrow(0, start, length).unsqueeze(1);
                targets = all.WeightedTargets.narrow(0, start, length).clone();
                rows.MoveToOuterDisposeScope();
                targets.MoveToOuterDisposeScope();
            }
            yield return (rows, targets, start, length);
        }
    }

    /// <summary>True when every entry is finite (their sum is then finite too, barring overflow, which also counts as divergence).</summary>
    private static bool IsFinite(Tensor tensor) => double.IsFinite(tensor.sum().item<double>());

    private static int[] Permutation(int n, Random random)
    {
        int[] order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static int ArgMin(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] < values[best] || double.IsNaN(values[best]))
                best = i;
        }
        return best;
    }
}
