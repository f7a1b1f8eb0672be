using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.ML.Kare.LibTorch;

namespace Microsoft.ML.Kare.Training;

/// <summary>A run whose held-out error is measured: its network, the rows it trains on, its measure and its held-out weight.</summary>
internal sealed record MeasuredRun(TrainingRun Run, RowSet Fit, IHeldOutMeasure Measure, double Weight);

/// <summary>
/// The networks a fit trains, epoch by epoch together (docs/maths.md, "Choosing the epoch and the ridge"): the model run,
/// whose state at the chosen epoch becomes the model, and the runs whose held-out errors choose that epoch and λ̃. With a
/// single hold-out they are the same run; with GCV nothing is measured; with k-fold cross-validation k fold runs and a
/// model run on all rows start from the same initial network and train in lockstep, side by side on the cores when each
/// trains on one libtorch thread, and their errors are averaged by held-out rows.
/// </summary>
internal sealed class LockstepRuns : IDisposable
{
    private readonly List<TrainingRun> _owned;
    private readonly int _parallelism;
    private readonly int _threads;

    private LockstepRuns(TrainingRun model, RowSet modelFit, IReadOnlyList<MeasuredRun> measured, List<TrainingRun> owned, int parallelism, int threads)
    {
        Model = model;
        ModelFit = modelFit;
        Measured = measured;
        _owned = owned;
        _parallelism = parallelism;
        _threads = threads;
    }

    /// <summary>The run whose state becomes the model.</summary>
    public TrainingRun Model { get; }

    /// <summary>The rows the model run trains on.</summary>
    public RowSet ModelFit { get; }

    public IReadOnlyList<MeasuredRun> Measured { get; }

    /// <summary>The runs of the plan; the first network is drawn from <paramref name="random"/>, fold runs copy it.</summary>
    public static LockstepRuns Create(FitPlan plan, KareFitSettings settings, FitRowSets sets, Random random)
    {
        TrainingRun model = TrainingRun.Create(plan, settings, random);
        var owned = new List<TrainingRun> { model };
        if (!plan.CrossValidation)
        {
            TrainingSplit split = sets.Splits[0];
            var measured = plan.HoldOut ? new[] { new MeasuredRun(model, split.Fit, HeldOut(plan, settings, split), 1.0) } : Array.Empty<MeasuredRun>();
            return new LockstepRuns(model, split.Fit, measured, owned, parallelism: 1, plan.Threads);
        }
        double[] initial = model.Network.GetParameters();
        var folds = new List<MeasuredRun>();
        foreach (TrainingSplit split in sets.Splits)
        {
            TrainingRun run = TrainingRun.Create(plan, settings, initial);
            owned.Add(run);
            folds.Add(new MeasuredRun(run, split.Fit, HeldOut(plan, settings, split), split.Validation!.Count));
        }
        return new LockstepRuns(model, sets.ModelFit, folds, owned, plan.Threads == 1 ? Environment.ProcessorCount : 1, plan.Threads);
    }

    /// <summary>
    /// One epoch of every run (epoch 0: each run's objective at initialisation). Returns the model run's objective and
    /// whether any run diverged (a non-finite objective or parameter).
    /// </summary>
    public (double Objective, bool Diverged) Epoch(int epoch, FitPlan plan, Random random, ITrainingMonitor monitor)
    {
        if (Measured.Count <= 1 && (Measured.Count == 0 || ReferenceEquals(Measured[0].Run, Model)))
        {
            double value = epoch == 0 ? InitialObjective(plan, Model, ModelFit) : Model.TrainEpoch(ModelFit, plan.BatchCount, random, monitor.CheckAlive);
            return (value, !double.IsFinite(value) || !Model.IsFinite);
        }
        // Cross-validation: full-batch runs (no random batches), each on its own libtorch thread.
        var runs = new List<(TrainingRun Run, RowSet Fit)> { (Model, ModelFit) };
        runs.AddRange(Measured.Select(m => (m.Run, m.Fit)));
        var objectives = new double[runs.Count];
        var finite = new bool[runs.Count];
        Parallel.For(0, runs.Count, new ParallelOptions { MaxDegreeOfParallelism = _parallelism }, i =>
        {
            TorchRuntime.MatchThreadCount(_threads);
            var (run, fit) = runs[i];
            objectives[i] = epoch == 0 ? InitialObjective(plan, run, fit) : run.TrainEpoch(fit, 1, random, static () => { });
            finite[i] = double.IsFinite(objectives[i]) && run.IsFinite;
        });
        monitor.CheckAlive();
        return (objectives[0], finite.Contains(false));
    }

    /// <summary>The measured runs' held-out errors, averaged by their held-out weights; null when nothing is measured.</summary>
    public HeldOutErrors? Measure()
    {
        if (Measured.Count == 0)
            return null;
        if (Measured.Count == 1)
            return Measured[0].Measure.Measure(Measured[0].Run);
        var results = new HeldOutErrors[Measured.Count];
        Parallel.For(0, Measured.Count, new ParallelOptions { MaxDegreeOfParallelism = _parallelism }, i =>
        {
            TorchRuntime.MatchThreadCount(_threads);
            results[i] = Measured[i].Measure.Measure(Measured[i].Run);
        });
        double total = Measured.Sum(m => m.Weight);
        var errors = new double[results[0].Errors.Length];
        for (int j = 0; j < errors.Length; j++)
            errors[j] = Enumerable.Range(0, results.Length).Sum(i => Measured[i].Weight * results[i].Errors[j]) / total;
        return new HeldOutErrors(errors, results[0].RelativeRidges);
    }

    /// <summary>The objective on the first step's rows of a run's fit set (all of them for a full batch).</summary>
    public static double InitialObjective(FitPlan plan, TrainingRun run, RowSet fit)
    {
        using RowSet first = fit.Take(plan.BatchCount == 1 ? fit.Count : Math.Min(plan.BatchRows, fit.Count));
        return run.Objective(first);
    }

    private static IHeldOutMeasure HeldOut(FitPlan plan, KareFitSettings settings, TrainingSplit split)
        => !plan.Method.UsesKernelReadout() ? new NetworkReadoutHeldOut(split.Validation!)
            : plan.HeldOutSpace == TrainingSpace.Parameter ? new ParameterSpaceHeldOut(split.Fit, split.Validation!, settings.RelativeRidgeGrid)
            : new KernelSpaceHeldOut(split.ValidationBasis, split.Validation!, settings.RelativeRidgeGrid);

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
    }
}
