using System;
using System.Linq;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>Epoch 0's objective is taken on as many rows as one training step takes, so it compares with later epochs.</summary>
[TestClass]
public sealed class InitialObjectiveTests
{
    [TestMethod]
    public void EpochZeroObjectiveUsesOneStepsRows()
    {
        KareTrainingData data = CrossValidationTests.Data(rows: 300);
        var settings = new KareFitSettings
        {
            HiddenWidths = new[] { 5 },
            Epochs = 1,
            RelativeRidgeGrid = Dense.LogSpace(1e-4, 1, 7),
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            BatchSize = 128,
            Seed = 4,
        };
        FitPlan plan = FitPlan.Create(data.RowCount, data.FeatureCount, data.TargetCount, settings);
        Assert.AreEqual(3, plan.BatchCount, "300 rows in batches of at most 128: three batches of 100");
        using var fit = TorchRuntime.BeginFit(plan.Threads, () => { });
        var rows = StandardizedRows.Create(data);
        using var sets = FitRowSets.Create(rows, Enumerable.Range(0, data.RowCount).ToArray(), plan);
        using var runs = LockstepRuns.Create(plan, settings, sets, new Random(4));
        RowSet fitRows = sets.Splits[0].Fit;
        Assert.AreEqual(300, fitRows.Count);

        double initial = LockstepRuns.InitialObjective(plan, runs.Model, fitRows);
        using RowSet oneStep = fitRows.Take(100);
        using RowSet askedBatch = fitRows.Take(128);
        Assert.AreEqual(runs.Model.Objective(oneStep), initial, 0.0);
        Assert.AreNotEqual(runs.Model.Objective(askedBatch), initial, "the batch size asked for is not what a step takes");
    }
}
