using Microsoft.ML.Kare.Solvers;
using System.Collections.Generic;
using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>Where the final ridge regression is solved (docs/maths.md, "Primal form").</summary>
internal enum FinalFitSpace
{
    /// <summary>n×n kernel: KRR by Cholesky (λ̃ held out or chosen by GCV).</summary>
    Kernel,

    /// <summary>P×P: (JᵀJ + nλI)β = JᵀY accumulated over blocks of rows.</summary>
    Parameter,

    /// <summary>No ridge regression: the (linearised) network predicts itself.</summary>
    NetworkReadout,
}

/// <summary>Where a KARE step or a held-out measurement works: on the n×n kernel, or on P×P quantities of the explicit Jacobian.</summary>
internal enum TrainingSpace
{
    /// <summary>The n×n kernel: O(n³) per step (the kernel path).</summary>
    Kernel,

    /// <summary>The explicit Jacobian J (n×P) and P×P matrices: O(nP² + P³) per step, for P &lt; n.</summary>
    Parameter,
}

/// <summary>A message the plan asks the fitter to log, in order.</summary>
internal readonly record struct FitMessage(bool IsWarning, string Text);

/// <summary>
/// Every decision a fit makes before it touches the data: the method's traits, how many rows train the kernel and how
/// many choose the epoch and ridge, where the final fit is solved, the batch and thread counts, the stochastic
/// gradient, early stopping and the memory estimate. Pure: it needs the data's shape and the settings only, so it is
/// tested without TorchSharp.
/// </summary>
internal sealed record FitPlan
{
    /// <summary>
    /// <see cref="KareRidgeSelection.Automatic"/> cross-validates up to this many training rows and holds out a fraction
    /// above.
    /// </summary>
    public const int AutomaticCrossValidationRows = 1000;

    /// <summary>
    /// Without cross-validation, at most this many rows train the kernel and at most this many are held out by default
    /// (<see cref="KareFitSettings.MaximumKernelTrainingRows"/>); the final ridge regression uses every row. Above the
    /// public suite's sizes (at most 2,600 fit rows there), so it changes only larger fits.
    /// </summary>
    public const int AutomaticMaximumKernelTrainingRows = 4096;

    /// <summary>Held-out and fit parts each need at least this many rows for the hold-out procedure.</summary>
    public const int MinimumHoldOutRows = 10;

    /// <summary>Without cross-validation, this fraction of the rows calibrates prediction intervals (at most <see cref="MaximumCalibrationRows"/>).</summary>
    public const double CalibrationFraction = 0.1;

    /// <summary>More calibration rows hardly sharpen a quantile; they would only take rows from training.</summary>
    public const int MaximumCalibrationRows = 2000;

    /// <summary>
    /// At most this many fit rows form the KRR basis when measuring held-out error during training (each measurement
    /// pays an eigendecomposition of this size). 1,024 instead of 2,000 cut the public suite's four largest fits (the only
    /// ones above it) by 3–31% with every rank unchanged (run `basis-1024-cost`; README, "Fit cost").
    /// </summary>
    public const int MaximumValidationBasisRows = 1024;

    /// <summary>Above this many rows the full-batch default switches to mini-batches of this size.</summary>
    public const int AutomaticBatchRows = 2048;

    /// <summary>
    /// At most this many rows are ever solved in kernel space: the final fit holds about four n×n float64 matrices
    /// (3 GB at this size; 8.8 GB peak was measured at 16,000 rows).
    /// </summary>
    public const int DefaultMaximumKernelRows = 10000;

    /// <summary>
    /// Above this many rows the final fit moves to parameter space as soon as the network has fewer parameters than
    /// rows: O(n·P²) time and O(P²) memory instead of O(n³) and O(n²), with the same β.
    /// </summary>
    public const int ParameterSpacePreferredRows = 4096;

    /// <summary>The parameter-space fit holds a P×P matrix (and its factor): at most this many parameters.</summary>
    public const long MaximumParameterSpaceParameters = 12288;

    /// <summary>
    /// Probes of the stochastic KARE gradient used by default for mini-batch training. On the simulation with
    /// mini-batches of 1,024 rows it gave a lower test error than the exact gradient (0.0014 against 0.0042, 3 seeds) in
    /// 60% of the time; on full batches 64 probes matched the exact gradient (0.0123 against 0.0136, 5 seeds). Full
    /// batches use it above <see cref="ExactGradientMaximumRows"/>.
    /// </summary>
    public const int AutomaticStochasticProbes = 64;

    /// <summary>
    /// Full-batch kernel-path steps of at most this many rows take the exact KARE gradient by default, larger ones the
    /// stochastic gradient (about b³ instead of 3b³ operations). On the public suite's two full-batch sets above it
    /// (5 splits each, run `probes-full-batch`): ames 16.4 → 9.4 s with R² 0.8570 → 0.8580, dna 52.9 → 30.4 s with
    /// accuracy 0.9549 → 0.9514, both ranks unchanged. Mini-batches of 1,024 rows instead (run `batch-1024`) were faster
    /// still but cost dna a rank (0.9483), with the exact gradient too (0.9461).
    /// </summary>
    public const int ExactGradientMaximumRows = 1024;

    /// <summary>
    /// Steps of at most this many rows run on one libtorch thread unless <see cref="KareFitSettings.ThreadCount"/> says
    /// otherwise: their matrix operations are too small to repay waking other threads. On 2 cores, 100-epoch fits took
    /// 0.18 s on one thread against 0.37 s on two at 150 rows (120 per step), 0.75 against 1.19 s at 350 rows, and
    /// 1.66 against 2.13 s at 350 rows with a 2 × 128 network; at 800 rows (640 per step) two threads were 7% faster and
    /// at 1,500 rows 18% faster. Cross-validation's fold runs always take one thread each and run side by side on the
    /// cores: at 1,000 rows (800 per fold step) the 5-fold fit took 29.5 s against 44.6 s with two threads per run in turn.
    /// </summary>
    public const int SingleThreadStepRows = 512;

    public required KareMethod Method { get; init; }
    public required KareNetworkArchitecture Architecture { get; init; }
    public required int RowCount { get; init; }

    /// <summary>Training epochs (0 for the NTK at initialisation).</summary>
    public required int Epochs { get; init; }

    /// <summary>The step of the method's optimiser (KARE's, or the mean squared error's).</summary>
    public required double LearningRate { get; init; }

    /// <summary>
    /// True when the epoch (and λ̃, for kernel readouts) are chosen on held-out rows (one hold-out, or k folds); false:
    /// GCV on all rows.
    /// </summary>
    public required bool HoldOut { get; init; }

    /// <summary>k of k-fold cross-validation; 0 for a single hold-out or GCV.</summary>
    public int Folds { get; init; }

    /// <summary>True when k-fold cross-validation chooses the epoch and λ̃ (<see cref="HoldOut"/> is then true too).</summary>
    public bool CrossValidation => Folds > 0;

    /// <summary>Rows held out (0 without a hold-out; the smallest fold with cross-validation); the rest train the kernel.</summary>
    public required int ValidationRows { get; init; }

    /// <summary>
    /// Rows kept out of training, of the choice of the epoch and λ̃, and of the ridge regression that predicts them, to
    /// calibrate prediction intervals (0 without intervals, and with cross-validation, whose folds calibrate them).
    /// </summary>
    public int CalibrationRows { get; init; }

    /// <summary>Rows the network is trained on (at most <see cref="KareFitSettings.MaximumKernelTrainingRows"/> without cross-validation).</summary>
    public int FitRows => KernelTrainingRowLimit > 0 ? Math.Min(UnheldRows, KernelTrainingRowLimit) : UnheldRows;

    /// <summary>Rows neither held out nor calibrating; the first <see cref="FitRows"/> of them train, the rest serve the final fit only.</summary>
    public int UnheldRows => RowCount - ValidationRows - CalibrationRows;

    /// <summary>The limit on <see cref="FitRows"/> (0: none; always none with cross-validation).</summary>
    public int KernelTrainingRowLimit { get; init; }

    /// <summary>Fit rows that form the kernel ridge regression's basis when measuring the held-out error.</summary>
    public int ValidationBasisRows => Math.Min(FitRows, MaximumValidationBasisRows);

    public required FinalFitSpace FinalFit { get; init; }

    /// <summary>Where the KARE steps work (the methods trained by mean squared error do not use it).</summary>
    public TrainingSpace StepSpace { get; init; }

    /// <summary>Where the held-out error of a kernel readout is measured.</summary>
    public TrainingSpace HeldOutSpace { get; init; }

    /// <summary>True when the final fit is solved in parameter space (also recorded for network readouts, whose memory it bounds).</summary>
    public required bool ParameterSpace { get; init; }

    /// <summary>Rows per optimiser step asked for (the batch size, or the automatic one).</summary>
    public required int BatchRows { get; init; }

    /// <summary>Rows of one step: the batch, or all fit rows when fewer.</summary>
    public int StepRows => Math.Min(BatchRows, FitRows);

    /// <summary>Mini-batches per epoch (1: full batch).</summary>
    public int BatchCount => Math.Max(1, RowSet.BatchCount(FitRows, BatchRows));

    /// <summary>Probes of the stochastic KARE gradient (0: exact).</summary>
    public required int StochasticProbes { get; init; }

    /// <summary>Epochs without improvement before stopping (0: never).</summary>
    public required int Patience { get; init; }

    /// <summary>libtorch threads for the fit (0: libtorch's default).</summary>
    public required int Threads { get; init; }

    public required KareMemoryEstimate Memory { get; init; }

    /// <summary>What the fitter logs before training, in order.</summary>
    public required IReadOnlyList<FitMessage> Messages { get; init; }

    /// <summary>
    /// The plan for <paramref name="rows"/> rows of <paramref name="features"/> features and <paramref name="targets"/>
    /// targets. Throws <see cref="NotSupportedException"/> when neither a kernel-space nor a parameter-space final fit
    /// is possible, or the method cannot train several targets.
    /// </summary>
    public static FitPlan Create(int rows, int features, int targets, KareFitSettings settings)
    {
        KareMethod method = settings.Method;
        if (method.TrainsByMeanSquaredError() && targets > 1)
            throw new NotSupportedException($"The method {method} trains the network's single output by mean squared error, so it supports one target " +
                                            $"(regression or binary classification), not {targets}. Use {KareMethod.Kare} or {KareMethod.NtkAtInitialization}.");
        var messages = new List<FitMessage>();
        var architecture = new KareNetworkArchitecture(features, settings.HiddenWidths, settings.Activation);
        bool parameterSpace = ChooseParameterSpace(rows, architecture, settings);
        if (method.UsesKernelReadout())
        {
            messages.Add(new(false, parameterSpace
                ? $"KARE: the final ridge regression is solved in parameter space ({architecture.ParameterCount}×{architecture.ParameterCount} for {rows} rows)."
                : $"KARE: the final ridge regression is solved in kernel space ({rows}×{rows})."));
        }
        KareRidgeSelection selection = ChooseSelection(rows, method.UsesKernelReadout() && parameterSpace, settings, messages);
        var (folds, validationRows, calibrationRows, fitRows, batchRows, stepSpace) = Sizes(rows, architecture, selection, settings);
        if (folds > 0 && batchRows < rows - validationRows)
        {
            messages.Add(new(true, $"Cross-validation trains every fold on full batches, but {rows - validationRows} rows make mini-batches of {batchRows}; " +
                                   $"choosing λ̃ and the epoch on {settings.ValidationFraction:P0} held-out rows instead."));
            selection = ChooseSelection(rows, false, settings with { RidgeSelection = KareRidgeSelection.HoldOut }, messages);
            (folds, validationRows, calibrationRows, fitRows, batchRows, stepSpace) = Sizes(rows, architecture, selection, settings);
        }
        if (settings.IntervalCoverage > 0)
            messages.Add(IntervalMessage(rows, folds, calibrationRows, settings.IntervalCoverage));
        if (fitRows < rows - validationRows - calibrationRows)
            messages.Add(new(false, $"KARE: {fitRows} of the {rows - validationRows - calibrationRows} rows not held out train the kernel (MaximumKernelTrainingRows); the final ridge regression uses all {rows} rows."));
        bool holdOut = selection != KareRidgeSelection.GeneralizedCrossValidation;
        TrainingSpace heldOutSpace = holdOut && method.UsesKernelReadout() ? ChooseHeldOutSpace(architecture, fitRows, validationRows, targets, settings) : TrainingSpace.Kernel;
        if (method == KareMethod.Kare && stepSpace == TrainingSpace.Parameter)
            messages.Add(new(false, $"KARE: exact steps in parameter space ({architecture.ParameterCount} parameters, {Math.Min(batchRows, fitRows)} rows per step)."));
        if (method == KareMethod.Kare && stepSpace == TrainingSpace.Kernel && settings.SinglePrecisionTraining)
            messages.Add(new(false, "KARE: the training steps' n×n algebra runs in float32 (SinglePrecisionTraining); held-out measurements and the final fit in float64."));
        if (heldOutSpace == TrainingSpace.Parameter)
            messages.Add(new(false, $"KARE: held-out error measured in parameter space (basis: all {fitRows} fit rows)."));
        var plan = new FitPlan
        {
            Method = method,
            Architecture = architecture,
            RowCount = rows,
            Epochs = method.Trains() ? settings.Epochs : 0,
            LearningRate = method.TrainsByMeanSquaredError() ? settings.MeanSquaredErrorLearningRate : settings.LearningRate,
            HoldOut = holdOut,
            Folds = folds,
            ValidationRows = validationRows,
            CalibrationRows = calibrationRows,
            KernelTrainingRowLimit = KernelTrainingRowLimitFor(selection, settings),
            FinalFit = !method.UsesKernelReadout() ? FinalFitSpace.NetworkReadout : parameterSpace ? FinalFitSpace.Parameter : FinalFitSpace.Kernel,
            ParameterSpace = parameterSpace,
            BatchRows = batchRows,
            StepSpace = stepSpace,
            HeldOutSpace = heldOutSpace,
            StochasticProbes = 0,
            Patience = 0,
            Threads = 0,
            Memory = KareMemoryEstimate.None,
            Messages = messages,
        };
        return plan.WithTrainingChoices(targets, settings, messages);
    }

    /// <summary>The threads, stochastic gradient, patience and memory estimate that follow from the rows per step.</summary>
    private FitPlan WithTrainingChoices(int targets, KareFitSettings settings, List<FitMessage> messages)
    {
        string chosen = Method.UsesKernelReadout() ? "λ̃ and the epoch" : "the epoch";
        messages.Add(new(false, $"KARE ({Method.Description()}): {Architecture} ({Architecture.ParameterCount} parameters), " + (
            CrossValidation ? $"{Folds}-fold cross-validation ({FitRows} rows to train on, about {ValidationRows} held out per fold) chooses {chosen}; a network on all {RowCount} rows gives the kernel."
            : HoldOut ? $"{FitRows} rows to train on, {ValidationRows} held out to choose {chosen}."
            : $"{FitRows} rows to train on" + (Method.UsesKernelReadout() ? ", λ̃ by GCV." : "."))));
        var memory = KareMemoryEstimate.For(RowCount, Architecture.InputCount, targets, Architecture, Method, StepRows, ValidationRows,
            ValidationBasisRows, ParameterSpace, settings.ComputeLeaveOneOutPredictions, StepSpace, HeldOutSpace);
        if (CrossValidation) // the fold runs train side by side, one per core
            memory = memory with { TrainingBytes = memory.TrainingBytes * Math.Min(Environment.ProcessorCount, Folds + 1) };
        messages.Add(new(false, $"KARE: estimated peak memory {KareMemoryEstimate.Format(memory.TotalBytes)} (budget {KareMemoryEstimate.Format(settings.MemoryBudgetBytes)})."));
        int threads = settings.ThreadCount > 0 ? settings.ThreadCount : CrossValidation || StepRows <= SingleThreadStepRows ? 1 : 0;
        if (settings.ThreadCount <= 0 && threads == 1)
            messages.Add(new(false, CrossValidation
                ? $"KARE: the {Folds} fold networks train side by side, one libtorch thread each (one per core)."
                : $"KARE: one libtorch thread for {StepRows}-row steps (small problems train faster without waking other threads)."));
        int probes = Probes(settings.StochasticProbes, BatchCount, StepRows, StepSpace);
        if (Method == KareMethod.Kare && probes > 0)
            messages.Add(new(false, $"KARE: stochastic gradient with {probes} probes for A² (" +
                                    (BatchCount > 1 ? $"{BatchCount} mini-batches of about {FitRows / BatchCount} rows)." : $"full batches of {StepRows} rows).")));
        else if (Method == KareMethod.Kare && settings.StochasticProbes > 0)
            messages.Add(new(false, $"KARE: the {settings.StochasticProbes} probes asked for (StochasticProbes) serve only kernel-path steps; these steps are exact, in parameter space."));
        return this with
        {
            Threads = threads,
            StochasticProbes = probes,
            Patience = settings.EarlyStoppingPatience ?? EpochSelector.AutomaticPatience(BatchCount, HoldOut),
            Memory = memory,
        };
    }

    /// <summary>
    /// Probes of the KARE gradient for steps of <paramref name="stepRows"/> rows: as asked for; automatically
    /// <see cref="AutomaticStochasticProbes"/> for kernel-path mini-batches and full batches of more than
    /// <see cref="ExactGradientMaximumRows"/> rows, and 0 (exact) otherwise, parameter-space steps included (they are
    /// always exact).
    /// </summary>
    internal static int Probes(int? asked, int batchCount, int stepRows, TrainingSpace stepSpace)
        => stepSpace == TrainingSpace.Parameter ? 0
            : asked ?? (batchCount > 1 || stepRows > ExactGradientMaximumRows ? AutomaticStochasticProbes : 0);

    /// <summary>The folds, held-out rows, calibration rows, training rows, rows per step and step space that a selection gives.</summary>
    private static (int Folds, int ValidationRows, int CalibrationRows, int FitRows, int BatchRows, TrainingSpace StepSpace) Sizes(int rows,
        KareNetworkArchitecture architecture, KareRidgeSelection selection, KareFitSettings settings)
    {
        int folds = selection == KareRidgeSelection.CrossValidation ? settings.Folds : 0;
        int validationRows = selection switch
        {
            KareRidgeSelection.HoldOut => HeldOutRows(rows, selection, settings),
            KareRidgeSelection.CrossValidation => rows / folds,
            _ => 0,
        };
        int calibrationRows = folds == 0 ? IntervalCalibrationRows(rows, rows - validationRows, settings.IntervalCoverage) : 0;
        int batchRows = settings.BatchSize > 0 ? settings.BatchSize : AutomaticBatchRows;
        int fitRows = TrainingRows(rows - validationRows - calibrationRows, KernelTrainingRowLimitFor(selection, settings));
        TrainingSpace stepSpace = ChooseStepSpace(settings.Method, architecture, fitRows, ref batchRows, settings);
        return (folds, validationRows, calibrationRows, fitRows, batchRows, stepSpace);
    }

    /// <summary>The rows that train: all <paramref name="unheld"/> rows, or at most <paramref name="limit"/> (0: no limit).</summary>
    private static int TrainingRows(int unheld, int limit) => limit > 0 ? Math.Min(unheld, limit) : unheld;

    /// <summary>
    /// The limit on the rows that train (0: none): <see cref="KareFitSettings.MaximumKernelTrainingRows"/> when a kernel
    /// ridge regression on all rows follows (kernel readouts) and no cross-validation trains on every row.
    /// </summary>
    private static int KernelTrainingRowLimitFor(KareRidgeSelection selection, KareFitSettings settings)
        => selection == KareRidgeSelection.CrossValidation || !settings.Method.UsesKernelReadout() ? 0 : settings.MaximumKernelTrainingRows;

    /// <summary>A hold-out's rows: <see cref="KareFitSettings.ValidationFraction"/> of the rows, at most the limit on the rows that train.</summary>
    private static int HeldOutRows(int rows, KareRidgeSelection selection, KareFitSettings settings)
    {
        int held = (int)Math.Round(settings.ValidationFraction * rows);
        int limit = KernelTrainingRowLimitFor(selection, settings);
        return limit > 0 ? Math.Min(held, limit) : held;
    }

    /// <summary>Where the prediction intervals are calibrated (a warning when no rows can be spared and the bounds are infinite).</summary>
    private static FitMessage IntervalMessage(int rows, int folds, int calibrationRows, double coverage)
        => new(calibrationRows == 0 && folds == 0, folds > 0
            ? $"KARE: the {100 * coverage:G4}% prediction intervals are calibrated on the folds' out-of-fold residuals."
            : calibrationRows > 0 ? $"KARE: {calibrationRows} rows are kept out of training and selection to calibrate the {100 * coverage:G4}% prediction intervals."
            : $"{rows} training rows are too few to keep calibration rows for {100 * coverage:G4}% prediction intervals: their bounds are infinite.");

    /// <summary>
    /// Calibration rows for intervals of <paramref name="coverage"/> (0: none): <see cref="CalibrationFraction"/> of the
    /// rows, at least the fewest that give a finite bound (coverage / (1 − coverage)) and at most
    /// <see cref="MaximumCalibrationRows"/>; none when the rows left to train on would fall below
    /// <see cref="MinimumHoldOutRows"/>.
    /// </summary>
    internal static int IntervalCalibrationRows(int rows, int trainableRows, double coverage)
    {
        if (coverage <= 0)
            return 0;
        int fewestFinite = (int)Math.Ceiling(coverage / (1 - coverage) - 1e-9);
        int calibration = Math.Min(MaximumCalibrationRows, Math.Max((int)Math.Round(CalibrationFraction * rows), fewestFinite));
        return trainableRows - calibration >= MinimumHoldOutRows ? calibration : 0;
    }

    /// <summary>
    /// The selection the fit can make: GCV needs the n×n kernel, so a parameter-space final fit chooses on held-out rows
    /// instead; a hold-out or k folds too small for <see cref="MinimumHoldOutRows"/> rows fall back to GCV. Warnings say so.
    /// </summary>
    private static KareRidgeSelection ChooseSelection(int rows, bool parameterSpaceKernelReadout, KareFitSettings settings, List<FitMessage> messages)
    {
        KareRidgeSelection selection = settings.RidgeSelection;
        if (selection == KareRidgeSelection.Automatic)
            selection = rows <= AutomaticCrossValidationRows ? KareRidgeSelection.CrossValidation : KareRidgeSelection.HoldOut;
        if (selection == KareRidgeSelection.GeneralizedCrossValidation && parameterSpaceKernelReadout)
        {
            messages.Add(new(true, $"{rows} training rows: generalised cross-validation needs the n×n kernel; choosing λ̃ and the epoch on held-out rows instead."));
            selection = KareRidgeSelection.HoldOut;
        }
        int held = selection switch
        {
            KareRidgeSelection.HoldOut => HeldOutRows(rows, selection, settings),
            KareRidgeSelection.CrossValidation => rows / settings.Folds,
            _ => MinimumHoldOutRows,
        };
        if (held < MinimumHoldOutRows || rows - held < MinimumHoldOutRows)
        {
            messages.Add(new(true, selection == KareRidgeSelection.CrossValidation
                ? $"{rows} training rows are too few for {settings.Folds} folds of at least {MinimumHoldOutRows} rows; using generalised cross-validation on all rows instead."
                : $"{rows} training rows are too few to hold out {settings.ValidationFraction:P0} for choosing the ridge and epoch; using generalised cross-validation on all rows instead."));
            selection = KareRidgeSelection.GeneralizedCrossValidation;
        }
        return selection;
    }

    /// <summary>
    /// Where KARE steps: forced by <see cref="KareFitSettings.StepSpace"/>, or the cheaper per epoch
    /// (<see cref="PathCosts"/>) of the kernel path (full batch, or mini-batches above <see cref="AutomaticBatchRows"/>
    /// rows) and exact full-batch steps in parameter space, which need fewer parameters than rows per step. Choosing the
    /// parameter space with an automatic batch size makes the steps full batch.
    /// </summary>
    private static TrainingSpace ChooseStepSpace(KareMethod method, KareNetworkArchitecture architecture, int fitRows, ref int batchRows, KareFitSettings settings)
    {
        if (method != KareMethod.Kare)
            return TrainingSpace.Kernel;
        bool automaticBatch = settings.BatchSize <= 0;
        int parameterBatch = automaticBatch ? fitRows : Math.Min(batchRows, fitRows);
        TrainingSpace space = settings.StepSpace ?? (architecture.ParameterCount < parameterBatch
            && PathCosts.ParameterEpoch(architecture, fitRows, parameterBatch)
               < PathCosts.KernelEpoch(architecture, fitRows, Math.Min(batchRows, fitRows), settings.StochasticProbes)
                ? TrainingSpace.Parameter : TrainingSpace.Kernel);
        if (space == TrainingSpace.Parameter && automaticBatch)
            batchRows = Math.Max(fitRows, 1);
        return space;
    }

    /// <summary>Where the held-out error is measured: forced, or the cheaper of the two (parameter space needs P &lt; fit rows).</summary>
    private static TrainingSpace ChooseHeldOutSpace(KareNetworkArchitecture architecture, int fitRows, int validationRows, int targets, KareFitSettings settings)
    {
        int ridges = settings.RelativeRidgeGrid.Count;
        return settings.HeldOutSpace ?? (architecture.ParameterCount < fitRows
            && PathCosts.ParameterHeldOut(architecture, fitRows, validationRows, targets, ridges)
               < PathCosts.KernelHeldOut(architecture, Math.Min(fitRows, MaximumValidationBasisRows), validationRows, targets, ridges)
                ? TrainingSpace.Parameter : TrainingSpace.Kernel);
    }

    /// <summary>
    /// The final fit goes to parameter space when the kernel would be too large, or, with a hold-out, when there are
    /// many rows and fewer parameters than rows; throws when neither space can hold the problem.
    /// </summary>
    private static bool ChooseParameterSpace(int rows, KareNetworkArchitecture architecture, KareFitSettings settings)
    {
        long p = architecture.ParameterCount;
        bool parameterSpace = settings.Method.UsesKernelReadout() && rows > settings.MaximumKernelRows
            || (rows > ParameterSpacePreferredRows && p < rows && p <= MaximumParameterSpaceParameters
                && settings.RidgeSelection != KareRidgeSelection.GeneralizedCrossValidation);
        if (parameterSpace && p > MaximumParameterSpaceParameters)
            throw new NotSupportedException(
                $"{rows} training rows are too many for a kernel-space fit (at most {settings.MaximumKernelRows} rows) and the network's {p} parameters are too many for a parameter-space fit (at most {MaximumParameterSpaceParameters}). " +
                "Use narrower hidden layers, fewer features, or subsample the training data.");
        return parameterSpace;
    }
}

/// <summary>
/// Floating-point operation counts of the two training paths, to choose between them (docs/maths.md, "KARE in
/// parameter space"). Dense float64 products and factorisations run at about the same rate on a CPU, so counts compare.
/// </summary>
internal static class PathCosts
{
    /// <summary>
    /// One kernel-space step on b rows: the solve (exact: Cholesky, inverse, A², about 3b³; stochastic: Cholesky and
    /// the blocked ‖L⁻¹‖²_F of <see cref="CholeskyFactor.InverseTrace"/>, about 0.75b³; measured at 2,000 rows, 2 threads:
    /// 404 against 98 ms) and the structured kernel and its backward (about 8b² per input and hidden unit).
    /// </summary>
    public static double KernelStep(KareNetworkArchitecture architecture, double rows, bool stochastic = false)
        => (stochastic ? 0.75 : 3) * rows * rows * rows + 8 * rows * rows * Units(architecture);

    /// <summary>One parameter-space step on n rows: JᵀJ and J·Q (2nP² each), M and M² (about 3.3P³), J and its backward (about 12nP).</summary>
    public static double ParameterStep(KareNetworkArchitecture architecture, double rows)
    {
        double p = architecture.ParameterCount;
        return 4 * rows * p * p + 3.3 * p * p * p + 12 * rows * p;
    }

    /// <summary>
    /// A kernel-space epoch: ⌈n/b⌉ steps on the rows each batch really holds (<see cref="RowSet.LargestBatchRows"/>),
    /// exact or stochastic as <see cref="FitPlan.Probes"/> decides for <paramref name="probes"/> asked for.
    /// </summary>
    public static double KernelEpoch(KareNetworkArchitecture architecture, int fitRows, int batchRows, int? probes)
    {
        int batches = RowSet.BatchCount(fitRows, batchRows);
        int stepRows = RowSet.LargestBatchRows(fitRows, batches);
        return batches * KernelStep(architecture, stepRows, FitPlan.Probes(probes, batches, stepRows, TrainingSpace.Kernel) > 0);
    }

    /// <summary>A parameter-space epoch: ⌈n/b⌉ steps on the rows each batch really holds (<see cref="RowSet.LargestBatchRows"/>).</summary>
    public static double ParameterEpoch(KareNetworkArchitecture architecture, int fitRows, int batchRows)
    {
        int batches = RowSet.BatchCount(fitRows, batchRows);
        return batches * ParameterStep(architecture, RowSet.LargestBatchRows(fitRows, batches));
    }

    /// <summary>
    /// A kernel-space measurement of <paramref name="outputs"/> targets at <paramref name="ridges"/> ridges: the basis
    /// kernel's eigendecomposition (about 9b³), the kernels (about 2(b + v)b per unit) and the held-out predictions
    /// (<see cref="EigenbasisHeldOutError.Flops"/>: with 4,096 held-out rows the projection K(X_v, X)V alone cost as
    /// much as the eigendecomposition of a 1,024-row basis, `--held-out` benchmark).
    /// </summary>
    public static double KernelHeldOut(KareNetworkArchitecture architecture, double basisRows, double validationRows, int outputs, int ridges)
        => 9 * basisRows * basisRows * basisRows + 2 * (basisRows + validationRows) * basisRows * Units(architecture)
           + EigenbasisHeldOutError.Flops(validationRows, basisRows, outputs, ridges);

    /// <summary>
    /// A parameter-space measurement: JᵀJ over the fit rows (2nP²), its eigendecomposition (about 9P³), J_v (2vP·units
    /// is small next to it) and the held-out predictions (<see cref="EigenbasisHeldOutError.Flops"/>).
    /// </summary>
    public static double ParameterHeldOut(KareNetworkArchitecture architecture, double fitRows, double validationRows, int outputs, int ridges)
    {
        double p = architecture.ParameterCount;
        return 2 * fitRows * p * p + 9 * p * p * p + EigenbasisHeldOutError.Flops(validationRows, p, outputs, ridges);
    }

    /// <summary>Input and hidden units: the width of the structured kernel's per-layer products.</summary>
    private static double Units(KareNetworkArchitecture architecture)
    {
        double units = architecture.InputCount;
        foreach (int width in architecture.HiddenWidths)
            units += width;
        return units;
    }
}
