using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Trains an MLP's empirical NTK by minimising the KARE objective on training rows, freezes it, and fits kernel ridge
/// regression with it (docs/maths.md, "The KARE procedure"), returning the model in primal form.
/// </summary>
/// <remarks>
/// The stages, each in its own type: <see cref="FitPlan"/> decides everything that depends only on the data's shape
/// and the settings; <see cref="TrainingRun"/> trains the network with the method's <see cref="ITrainingStep"/>;
/// an <see cref="IHeldOutMeasure"/> measures each scheduled epoch on held-out rows (<see cref="ValidationSchedule"/>);
/// <see cref="EpochSelector"/> keeps the best epoch and decides when to stop; an <see cref="IFinalFit"/> turns the kept
/// network into β. Features and targets are standardised first; row weights w enter as K_w = S K S and Y_w = S Y with
/// S = diag(√(w/mean w)), which turns KRR and KARE into their weighted forms.
/// </remarks>
internal static class KareFitter
{
    public static KareFitResult Fit(KareTrainingData data, KareFitSettings settings, ITrainingMonitor<KareEpochSummary> monitor)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(monitor);
        if (data.RowCount < 2)
            throw new ArgumentException($"KARE needs at least 2 training rows, got {data.RowCount}.", nameof(data));
        monitor.CheckAlive();
        TorchRuntime.Initialize();
        var stopwatch = Stopwatch.StartNew();
        var random = new Random(settings.Seed);
        var rows = StandardizedRows.Create(data, settings.CompressSkewedFeatures, settings.ScaleIndicatorsByRange, settings.AppendNormalScores);
        if (rows.NormalScores is Scoring.NormalScores scores)
            monitor.Info(DescribeNormalScores(scores));
        if (rows.FeatureCompressionScales is double[] compression)
            monitor.Info(DescribeCompression(compression));
        FitPlan plan = FitPlan.Create(data.RowCount, rows.FeatureCount, data.TargetCount, settings);
        foreach (FitMessage message in plan.Messages)
            (message.IsWarning ? (Action<string>)monitor.Warning : monitor.Info)(message.Text);
        if (plan.Memory.TotalBytes > settings.MemoryBudgetBytes)
            throw new InsufficientMemoryException(plan.Memory.DescribeShortfall(settings.MemoryBudgetBytes, FitDescription(plan)));

        int[] order = Permutation(data.RowCount, random);
        KareRelevanceWeighting relevance = InputRelevance.Resolve(settings.RelevanceWeighting, data.RowCount);
        if (relevance != KareRelevanceWeighting.None)
            rows.WeighInputsByRelevance(relevance, FitRowSets.ScreenWeights(rows.Weights, order, plan));
        if (rows.InputWeights is double[] inputWeights)
            monitor.Info(DescribeInputWeights(inputWeights));
        using var fitScope = TorchRuntime.BeginFit(plan.Threads, monitor.CheckAlive, monitor.Info);
        using var warnings = NumericalWarnings.RouteTo(monitor.Warning);
        using var sets = FitRowSets.Create(rows, order, plan);
        using var runs = LockstepRuns.Create(plan, settings, sets, random);
        var curve = new List<KareEpochSummary>(plan.Epochs + 1);
        EpochSelector selector = Train(plan, settings, runs, random, monitor, curve);
        IFinalFit finalFit = IFinalFit.For(plan, settings.RelativeRidgeGrid);
        // At epoch 0 every fold network is still the shared initial network: one of them is the whole ensemble.
        IReadOnlyList<TrainingRun> members = selector.BestEpoch == 0 ? runs.Members.Take(1).ToArray() : runs.Members;
        monitor.CheckAlive();
        var finals = runs.SideBySide(members.Count, monitor.CheckAlive, (i, check) =>
            finalFit.Fit(members[i], sets.All, plan.HoldOut ? selector.BestRelativeRidge : double.NaN, settings.ComputeLeaveOneOutPredictions, check)).ToList();
        monitor.CheckAlive();
        KarePredictionInterval? interval = null;
        if (settings.IntervalCoverage > 0 && rows.TargetCount == 1)
        {
            interval = IntervalCalibration.Calibrate(plan, settings.IntervalCoverage, sets, runs, plan.HoldOut ? selector.BestRelativeRidge : double.NaN,
                finalFit, rows.TargetScales[0], monitor.CheckAlive);
            monitor.Info($"KARE: {interval}.");
            monitor.CheckAlive();
        }
        FinalModel final = finals[0];
        monitor.Info($"KARE ({plan.Method.Description()}): kept epoch {selector.BestEpoch}" + (plan.HoldOut ? $" (held-out MSE {selector.BestError:G4} in standardised units)" : string.Empty) +
                     (plan.Method.UsesKernelReadout() ? $", λ̃ = {final.RelativeRidge:G3} (λ = {final.Ridge:G3})" : string.Empty) +
                     (finals.Count > 1 ? $"; an ensemble of the {finals.Count} fold networks" : string.Empty) + $"; trained in {stopwatch.Elapsed.TotalSeconds:F1} s.");
        return Result(plan, rows, runs, selector, finals, curve, interval, settings.ClipInputsToTrainingRange);
    }

    /// <summary>
    /// The epoch loop: epoch 0 measures the initial networks, each later epoch trains every run one pass; scheduled
    /// epochs are measured on the held-out rows; the selector keeps the best and stops on divergence or early. The model
    /// run ends restored to the kept epoch.
    /// </summary>
    private static EpochSelector Train(FitPlan plan, KareFitSettings settings, LockstepRuns runs, Random random,
        ITrainingMonitor<KareEpochSummary> monitor, List<KareEpochSummary> curve)
    {
        TrainingRun model = runs.Model;
        ModelState initial = model.Snapshot();
        var selector = new EpochSelector(plan.HoldOut, plan.Patience, plan.Epochs, initial);
        for (int epoch = 0; epoch <= plan.Epochs; epoch++)
        {
            monitor.CheckAlive();
            ModelState start = epoch == 0 ? initial : ModelState.Of(model.Parameters());
            var (objective, diverged) = runs.Epoch(epoch, plan, random, monitor);
            HeldOutErrors? heldOut = null;
            if (!diverged && plan.HoldOut && ValidationSchedule.IsDue(epoch, plan.Epochs, settings.ValidationInterval))
            {
                monitor.CheckAlive();
                heldOut = runs.Measure(monitor.CheckAlive);
                diverged = !double.IsFinite(heldOut!.BestError);
            }
            if (diverged && epoch == 0)
                throw new InvalidOperationException($"The training objective is {objective} at initialisation: the training data give a non-finite kernel or network output.");
            EpochVerdict verdict = selector.Record(epoch, objective, heldOut, diverged, start, runs.RecordBest);
            if (verdict == EpochVerdict.Diverged)
            {
                monitor.Warning($"Training diverged at epoch {epoch} (objective {objective}, a non-finite kernel or parameters); stopped there and kept epoch {selector.BestEpoch}. " +
                                $"Lower the learning rate (now {plan.LearningRate}) or use the Adam optimizer.");
                break;
            }
            var summary = new KareEpochSummary(epoch, objective, heldOut?.BestError ?? double.NaN, heldOut?.BestRelativeRidge ?? double.NaN);
            curve.Add(summary);
            monitor.Report(summary, plan.Epochs);
            if (verdict == EpochVerdict.StopEarly)
            {
                monitor.Info($"Early stopping at epoch {epoch}: " + (plan.HoldOut ? "the held-out error" : "the training objective") +
                             $" has not improved since epoch {selector.LastImprovement}.");
                break;
            }
        }
        RestoreKeptEpoch(plan, runs, selector, monitor);
        return selector;
    }

    /// <summary>
    /// Restores the kept epoch. Without a hold-out the last epoch is kept although its update was never evaluated: if its
    /// kernel overflowed, the state the epoch started from is kept instead.
    /// </summary>
    private static void RestoreKeptEpoch(FitPlan plan, LockstepRuns runs, EpochSelector selector, ITrainingMonitor monitor)
    {
        if (runs.Members.Count > 1)
        {
            runs.RestoreBest(); // an ensemble: always chosen on held-out errors
            return;
        }
        if (plan.CrossValidation)
            runs.RestoreBest(); // the fold runs beside a refit calibrate prediction intervals at the kept epoch
        runs.Model.Restore(selector.Best);
        if (plan.HoldOut || selector.BestEpoch != plan.Epochs || plan.Epochs == 0 || double.IsFinite(LockstepRuns.InitialObjective(plan, runs.Model, runs.ModelFit)))
            return;
        monitor.Warning($"Training diverged in its last epoch; kept epoch {plan.Epochs - 1}. Lower the learning rate (now {plan.LearningRate}).");
        selector.FallBackToLastEpochStart();
        runs.Model.Restore(selector.Best);
    }

    private static KareFitResult Result(FitPlan plan, StandardizedRows rows, LockstepRuns runs, EpochSelector selector, List<FinalModel> finals,
        List<KareEpochSummary> curve, KarePredictionInterval? interval, bool clipInputs)
    {
        var members = new List<KareModelMember>(finals.Count);
        for (int i = 0; i < finals.Count; i++)
        {
            ModelState state = finals.Count == 1 ? selector.Best : runs.Members[i].Snapshot();
            members.Add(new KareModelMember(plan.Method.UsesKernelReadout() ? state.Parameters : state.Anchor, finals[i].PrimalWeights));
        }
        double[]? leaveOneOut = finals[0].LeaveOneOut is null ? null : AverageOf(finals.Select(f => f.LeaveOneOut!).ToList());
        return new KareFitResult
        {
            Method = plan.Method,
            Architecture = plan.Architecture,
            Parameters = members[0].Parameters,
            PrimalWeights = members[0].PrimalWeights,
            Members = members,
            OutputCount = rows.TargetCount,
            FeatureMeans = rows.FeatureMeans,
            FeatureScales = rows.FeatureScales,
            FeatureCompressionScales = rows.FeatureCompressionScales,
            NormalScores = rows.NormalScores,
            InputRange = clipInputs ? Scoring.InputRange.Of(rows.Features, rows.RowCount, rows.FeatureCount) : null,
            TargetMeans = rows.TargetMeans,
            TargetScales = rows.TargetScales,
            RelativeRidge = finals[0].RelativeRidge,
            Ridge = finals.Average(f => f.Ridge),
            SelectedEpoch = selector.BestEpoch,
            TrainingCurve = curve,
            LeaveOneOutPredictions = leaveOneOut is null ? null : rows.UnstandardizeTargets(leaveOneOut),
            PredictionInterval = interval,
        };
    }

    /// <summary>Which feature columns got normal scores, for the log.</summary>
    private static string DescribeNormalScores(Scoring.NormalScores scores)
    {
        return $"KARE: {scores.Columns.Length} of {scores.FeatureCount} features also enter as their normal scores (feature indices {ShownIndices(scores.Columns)}; AppendNormalScores).";
    }

    /// <summary>Which inputs were compressed, for the log.</summary>
    private static string DescribeCompression(double[] scales)
    {
        var columns = Enumerable.Range(0, scales.Length).Where(j => scales[j] > 0).ToList();
        return $"KARE: {columns.Count} of {scales.Length} inputs are heavy-tailed (skewness above {SkewedFeatures.MinimumSkewness}) and enter as sign(x)·ln(1 + |x|/s) (input indices {ShownIndices(columns)}; CompressSkewedFeatures).";
    }

    /// <summary>The weights' range and the inputs with the largest ones (RelevanceWeighting).</summary>
    private static string DescribeInputWeights(double[] weights)
    {
        int[] strongest = Enumerable.Range(0, weights.Length).OrderByDescending(j => weights[j]).Take(5).ToArray();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"KARE: inputs weighted by their relevance to the label, {weights.Min():F2} to {weights.Max():F2} (largest: input indices {ShownIndices(strongest)}; RelevanceWeighting).");
    }

    /// <summary>The first 20 of <paramref name="indices"/>, comma-separated, and "…" when there are more.</summary>
    private static string ShownIndices(IReadOnlyCollection<int> indices)
        => string.Join(", ", indices.Take(20).Select(j => j.ToString(System.Globalization.CultureInfo.InvariantCulture)))
           + (indices.Count > 20 ? ", …" : string.Empty);

    /// <summary>The element-wise mean of equal-length vectors (the first one itself when there is one).</summary>
    private static double[] AverageOf(List<double[]> vectors)
    {
        if (vectors.Count == 1)
            return vectors[0];
        var mean = new double[vectors[0].Length];
        for (int i = 0; i < mean.Length; i++)
        {
            double sum = 0;
            foreach (double[] vector in vectors)
                sum += vector[i];
            mean[i] = sum / vectors.Count;
        }
        return mean;
    }

    private static string FitDescription(FitPlan plan)
        => $"{plan.RowCount} rows, a {plan.Architecture} network with {plan.Architecture.ParameterCount} parameters, {plan.StepRows} rows per step, final fit in "
           + (plan.ParameterSpace ? "parameter space." : "kernel space.");

    /// <summary>The random order of the rows that every split takes its parts from (the first draw of the fit's seed).</summary>
    public static int[] Permutation(int n, Random random)
    {
        int[] order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
