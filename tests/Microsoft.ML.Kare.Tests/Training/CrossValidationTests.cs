using System;
using System.Linq;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// k-fold cross-validated selection of the epoch and λ̃: the fold runs, trained side by side, give exactly what each
/// fold trained alone gives, their errors are averaged by held-out rows, and the model is the network trained on all
/// rows for the chosen number of epochs (the network a GCV fit of that many epochs trains).
/// </summary>
[TestClass]
public sealed class CrossValidationTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void LockstepFoldsEqualEachFoldTrainedAloneAndAverageByRows(bool parameterSpace)
    {
        TrainingSpace space = parameterSpace ? TrainingSpace.Parameter : TrainingSpace.Kernel;
        KareTrainingData data = Data(rows: 123);
        KareFitSettings settings = Settings(space);
        FitPlan plan = FitPlan.Create(data.RowCount, data.FeatureCount, data.TargetCount, settings);
        Assert.AreEqual(3, plan.Folds);
        Assert.AreEqual(1, plan.Threads, "small folds train on one libtorch thread each, side by side");
        using var fit = TorchRuntime.BeginFit(plan.Threads, () => { }); // as the fitter does: the folds trained alone use the same count
        var rows = StandardizedRows.Create(data);
        int[] order = Enumerable.Range(0, data.RowCount).Reverse().ToArray();
        using var sets = FitRowSets.Create(rows, order, plan);
        Assert.HasCount(3, sets.Splits);
        Assert.AreEqual(data.RowCount, sets.Splits.Sum(s => s.Validation!.Count), "the folds partition the rows");
        using var runs = LockstepRuns.Create(plan, settings, sets, new Random(4));
        double[] initial = runs.Model.Network.GetParameters();
        var alone = sets.Splits.Select(split => (Run: TrainingRun.Create(plan, settings, initial), Split: split)).ToArray();
        try
        {
            var random = new Random(1);
            for (int epoch = 0; epoch <= 3; epoch++)
            {
                if (epoch > 0)
                {
                    runs.Epoch(epoch, plan, random, new RecordingMonitor());
                    foreach (var (run, split) in alone)
                        run.TrainEpoch(split.Fit, 1, random, () => { });
                }
                HeldOutErrors together = runs.Measure(() => { })!;
                double[][] separate = alone.Select(a => new KernelOrParameterMeasure(plan, settings, a.Split).Measure(a.Run, () => { }).Errors).ToArray();
                double total = alone.Sum(a => (double)a.Split.Validation!.Count);
                for (int j = 0; j < together.Errors.Length; j++)
                {
                    double expected = Enumerable.Range(0, alone.Length).Sum(i => alone[i].Split.Validation!.Count * separate[i][j]) / total;
                    Assert.AreEqual(expected, together.Errors[j], 0.0, $"epoch {epoch}, ridge {j}: fold errors averaged by held-out rows");
                }
            }
        }
        finally
        {
            foreach (var (run, _) in alone)
                run.Dispose();
        }
    }

    [TestMethod]
    public void RefitModelIsTheAllRowsNetworkOfTheChosenEpoch()
    {
        KareTrainingData data = Data(rows: 90);
        KareFitSettings settings = Settings(TrainingSpace.Kernel) with { Epochs = 8, FoldEnsemble = false };
        var monitor = new RecordingMonitor();
        KareFitResult crossValidated = KareFitter.Fit(data, settings, monitor);
        Assert.IsTrue(monitor.Messages.Any(m => m.Contains("3-fold cross-validation", StringComparison.Ordinal)), string.Join("\n", monitor.Messages));
        Assert.IsTrue(crossValidated.TrainingCurve.Take(11).All(p => double.IsFinite(p.ValidationError)), "every early epoch is measured");
        int chosen = crossValidated.SelectedEpoch;
        double best = crossValidated.TrainingCurve.Where(p => double.IsFinite(p.ValidationError)).Min(p => p.ValidationError);
        Assert.AreEqual(best, crossValidated.TrainingCurve[chosen].ValidationError, "the epoch with the lowest averaged error is kept");

        KareFitResult allRows = KareFitter.Fit(data, settings with { RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation, Epochs = chosen }, new RecordingMonitor());
        CollectionAssert.AreEqual(allRows.Parameters, crossValidated.Parameters, $"θ after {chosen} epochs on all rows");
        Assert.AreEqual(crossValidated.TrainingCurve[chosen].ValidationRelativeRidge, crossValidated.RelativeRidge, "λ̃ of the chosen epoch");
    }

    [TestMethod]
    public void TooFewRowsForTheFoldsFallBackToGeneralizedCrossValidation()
    {
        FitPlan plan = FitPlan.Create(40, 2, 1, Settings(TrainingSpace.Kernel) with { Folds = 5 });
        Assert.AreEqual(0, plan.Folds);
        Assert.IsFalse(plan.HoldOut);
        Assert.IsTrue(plan.Messages.Any(m => m.IsWarning && m.Text.Contains("too few for 5 folds", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void MiniBatchesFallBackToAHoldOut()
    {
        FitPlan plan = FitPlan.Create(300, 2, 1, Settings(TrainingSpace.Kernel) with { BatchSize = 50 });
        Assert.AreEqual(0, plan.Folds);
        Assert.IsTrue(plan.HoldOut);
        Assert.AreEqual(60, plan.ValidationRows);
        Assert.IsTrue(plan.Messages.Any(m => m.IsWarning && m.Text.Contains("full batches", StringComparison.Ordinal)));
    }

    private static KareFitSettings Settings(TrainingSpace space) => new()
    {
        HiddenWidths = new[] { 5 },
        Epochs = 3,
        LearningRate = 2,
        RelativeRidgeGrid = Dense.LogSpace(1e-4, 1, 7),
        RidgeSelection = KareRidgeSelection.CrossValidation,
        Folds = 3,
        StepSpace = space,
        HeldOutSpace = space,
        Seed = 4,
    };

    internal static KareTrainingData Data(int rows)
    {
        const int Inputs = 2;
        var random = new Random(rows);
        double[] features = Enumerable.Range(0, rows * Inputs).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] targets = Enumerable.Range(0, rows).Select(i => Math.Sin(3 * features[2 * i]) * features[2 * i + 1] + 0.05 * random.NextDouble()).ToArray();
        return new KareTrainingData(features, rows, Inputs, targets, 1, null);
    }

    /// <summary>The held-out measure the plan gives a split, built as the fitter builds it.</summary>
    private sealed class KernelOrParameterMeasure(FitPlan plan, KareFitSettings settings, TrainingSplit split) : IHeldOutMeasure
    {
        public HeldOutErrors Measure(TrainingRun run, Action checkAlive) => (plan.HeldOutSpace == TrainingSpace.Parameter
            ? new ParameterSpaceHeldOut(split.Fit, split.Validation!, settings.RelativeRidgeGrid)
            : (IHeldOutMeasure)new KernelSpaceHeldOut(split.ValidationBasis, split.Validation!, settings.RelativeRidgeGrid)).Measure(run, checkAlive);
    }
}
