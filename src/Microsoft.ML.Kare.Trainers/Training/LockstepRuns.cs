using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.Kare.Training;

/// <summary>A run whose held-out error is measured: its network, the rows it trains on, its measure and its held-out weight.</summary>
internal sealed record MeasuredRun(TrainingRun Run, RowSet Fit, IHeldOutMeasure Measure, double Weight);

/// <summary>
/// The networks a fit trains, epoch by epoch together (docs/maths.md, "Choosing the epoch and the ridge"): the members,
/// whose states at the chosen epoch become the model, and the runs whose held-out errors choose that epoch and λ̃. With a
/// single hold-out they are one run; with GCV nothing is measured; with k-fold cross-validation the k fold runs (and,
/// for a refit, a run on all rows) start from the same initial network and train in lockstep, side by side on the cores
/// when each trains on one libtorch thread, and their errors are averaged by held-out rows. The members are the fold
/// runs (an ensemble) or the all-rows run.
/// </summary>
internal sealed class LockstepRuns : IDisposable
{
    private readonly List<(TrainingRun Run, RowSet Fit)> _trained;
    private readonly int _parallelism;
    private readonly int _threads;
    private ModelState[] _best; // every trained run's state at the best epoch, in the order of _trained

    private LockstepRuns(IReadOnlyList<TrainingRun> members, RowSet memberFit, IReadOnlyList<MeasuredRun> measured,
        List<(TrainingRun Run, RowSet Fit)> trained, int parallelism, int threads)
    {
        Members = members;
        ModelFit = memberFit;
        Measured = measured;
        _trained = trained;
        _parallelism = parallelism;
        _threads = threads;
        _best = trained.Select(t => t.Run.Snapshot()).ToArray();
    }

    /// <summary>The runs whose states become the model: one network, or the k fold networks of an ensemble.</summary>
    public IReadOnlyList<TrainingRun> Members { get; }

    /// <summary>The first member, the network of a single-network model.</summary>
    public TrainingRun Model => Members[0];

    /// <summary>The rows the first member trains on.</summary>
    public RowSet ModelFit { get; }

    public IReadOnlyList<MeasuredRun> Measured { get; }

    /// <summary>The runs of the plan; the first network is drawn from <paramref name="random"/>, fold runs copy it.</summary>
    public static LockstepRuns Create(FitPlan plan, KareFitSettings settings, FitRowSets sets, Random random)
    {
        TrainingRun first = TrainingRun.Create(plan, settings, random);
        if (!plan.CrossValidation)
        {
            TrainingSplit split = sets.Splits[0];
            var measured = plan.HoldOut ? new[] { new MeasuredRun(first, split.Fit, HeldOut(plan, settings, split), 1.0) } : Array.Empty<MeasuredRun>();
            return new LockstepRuns(new[] { first }, split.Fit, measured, new() { (first, split.Fit) }, parallelism: 1, plan.Threads);
        }
        double[] initial = first.Network.GetParameters();
        var folds = new List<MeasuredRun>();
        foreach (TrainingSplit split in sets.Splits)
            folds.Add(new MeasuredRun(TrainingRun.Create(plan, settings, initial), split.Fit, HeldOut(plan, settings, split), split.Validation!.Count));
        var trained = folds.Select(f => (f.Run, f.Fit)).ToList();
        int parallelism = plan.Threads == 1 ? Environment.ProcessorCount : 1;
        if (settings.FoldEnsemble)
        {
            first.Dispose();
            return new LockstepRuns(folds.Select(f => f.Run).ToArray(), folds[0].Fit, folds, trained, parallelism, plan.Threads);
        }
        trained.Insert(0, (first, sets.ModelFit));
        return new LockstepRuns(new[] { first }, sets.ModelFit, folds, trained, parallelism, plan.Threads);
    }

    /// <summary>
    /// One epoch of every run (epoch 0: each run's objective at initialisation). Returns the members' mean objective and
    /// whether any run diverged (a non-finite objective or parameter).
    /// </summary>
    public (double Objective, bool Diverged) Epoch(int epoch, FitPlan plan, Random random, ITrainingMonitor monitor)
    {
        if (_trained.Count == 1)
        {
            var (run, fit) = _trained[0];
            double value = epoch == 0 ? InitialObjective(plan, run, fit) : run.TrainEpoch(fit, plan.BatchCount, random, monitor.CheckAlive);
            return (value, !double.IsFinite(value) || !run.IsFinite);
        }
        // Cross-validation: full-batch runs (no random batches), each on its own libtorch thread.
        var objectives = SideBySide(_trained.Count, i =>
        {
            var (run, fit) = _trained[i];
            double value = epoch == 0 ? InitialObjective(plan, run, fit) : run.TrainEpoch(fit, 1, random, static () => { });
            return (Value: value, Finite: double.IsFinite(value) && run.IsFinite);
        });
        monitor.CheckAlive();
        double objective = Enumerable.Range(0, _trained.Count).Where(i => Members.Contains(_trained[i].Run)).Average(i => objectives[i].Value);
        return (objective, objectives.Any(o => !o.Finite));
    }

    /// <summary>The measured runs' held-out errors, averaged by their held-out weights; null when nothing is measured.</summary>
    public HeldOutErrors? Measure(Action checkAlive)
    {
        if (Measured.Count == 0)
            return null;
        if (Measured.Count == 1)
            return Measured[0].Measure.Measure(Measured[0].Run, checkAlive);
        HeldOutErrors[] results = SideBySide(Measured.Count, checkAlive, (i, check) => Measured[i].Measure.Measure(Measured[i].Run, check));
        double total = Measured.Sum(m => m.Weight);
        var errors = new double[results[0].Errors.Length];
        for (int j = 0; j < errors.Length; j++)
            errors[j] = Enumerable.Range(0, results.Length).Sum(i => Measured[i].Weight * results[i].Errors[j]) / total;
        return new HeldOutErrors(errors, results[0].RelativeRidges);
    }

    /// <summary>
    /// <paramref name="work"/>(0 … count − 1) for the runs, side by side on the cores when each run trains on one
    /// libtorch thread (the fold runs of cross-validation), one after another otherwise (<see cref="Training.SideBySide"/>).
    /// </summary>
    public T[] SideBySide<T>(int count, Func<int, T> work) => Training.SideBySide.Run(count, _parallelism, _threads, work);

    /// <summary>
    /// <see cref="SideBySide{T}(int, Func{int, T})"/> for work that checks for cancellation: every piece gets the same
    /// <see cref="SharedCancellationCheck"/> of <paramref name="checkAlive"/>, so a cancellation is seen once.
    /// </summary>
    public T[] SideBySide<T>(int count, Action checkAlive, Func<int, Action, T> work)
    {
        var shared = new SharedCancellationCheck(checkAlive);
        return SideBySide(count, i => work(i, shared.CheckAlive));
    }

    /// <summary>
    /// Records every run's state as the best so far (the fold runs of a refit too: they calibrate prediction intervals);
    /// returns the first member's (for the epoch selector).
    /// </summary>
    public ModelState RecordBest()
    {
        _best = _trained.Select(t => t.Run.Snapshot()).ToArray();
        return _best[_trained.FindIndex(t => t.Run == Model)];
    }

    /// <summary>Restores every run to the state <see cref="RecordBest"/> recorded last.</summary>
    public void RestoreBest()
    {
        for (int i = 0; i < _trained.Count; i++)
            _trained[i].Run.Restore(_best[i]);
    }

    /// <summary>
    /// The objective on as many rows of a run's fit set as one step takes (all of them for a full batch; the
    /// <see cref="RowSet.Batches"/> split otherwise, not the larger batch size asked for), so that epoch 0's ρ compares
    /// with the later epochs' mean batch ρ, and costs no more than one of their steps (hpc: 2,048 rows took about 0.8 s,
    /// the 1,385-row steps 0.1 s).
    /// </summary>
    public static double InitialObjective(FitPlan plan, TrainingRun run, RowSet fit)
    {
        using RowSet first = fit.Take(plan.BatchCount == 1 ? fit.Count : fit.Count / plan.BatchCount);
        return run.Objective(first);
    }

    private static IHeldOutMeasure HeldOut(FitPlan plan, KareFitSettings settings, TrainingSplit split)
        => !plan.Method.UsesKernelReadout() ? new NetworkReadoutHeldOut(split.Validation!)
            : plan.HeldOutSpace == TrainingSpace.Parameter ? new ParameterSpaceHeldOut(split.Fit, split.Validation!, settings.RelativeRidgeGrid)
            : new KernelSpaceHeldOut(split.ValidationBasis, split.Validation!, settings.RelativeRidgeGrid);

    public void Dispose()
    {
        for (int i = _trained.Count - 1; i >= 0; i--)
            _trained[i].Run.Dispose();
    }
}
