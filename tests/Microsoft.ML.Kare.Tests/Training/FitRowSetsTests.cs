using System;
using System.Linq;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>How a hold-out plan splits the rows: held out, calibration, training, and the rows only the final fit uses.</summary>
[TestClass]
public sealed class FitRowSetsTests
{
    [TestMethod]
    public void WithAKernelTrainingLimitTheRowsAfterTheTrainingRowsServeOnlyTheFinalFit()
    {
        const int Rows = 300;
        var random = new Random(5);
        double[] features = Enumerable.Range(0, Rows * 2).Select(_ => random.NextDouble()).ToArray();
        // Each target is its row's index, so a set's targets name its rows.
        double[] targets = Enumerable.Range(0, Rows).Select(i => (double)i).ToArray();
        var data = new KareTrainingData(features, Rows, 2, targets, 1, null);
        var settings = new KareFitSettings
        {
            HiddenWidths = new[] { 4 },
            RelativeRidgeGrid = new[] { 1e-2 },
            RidgeSelection = KareRidgeSelection.HoldOut,
            ValidationFraction = 0.2,
            IntervalCoverage = 0.9,
            MaximumKernelTrainingRows = 100,
        };
        FitPlan plan = FitPlan.Create(Rows, 2, 1, settings);
        int[] order = Enumerable.Range(0, Rows).Select(_ => random.Next()).Select((key, i) => (key, i)).OrderBy(p => p.key).Select(p => p.i).ToArray();
        var rows = StandardizedRows.Create(data);
        using var sets = FitRowSets.Create(rows, order, plan);

        int[] RowsOf(RowSet set) => set.Targets.contiguous().data<double>().Select(t => (int)Math.Round(t * rows.TargetScales[0] + rows.TargetMeans[0])).ToArray();
        TrainingSplit split = sets.Splits.Single();
        CollectionAssert.AreEqual(order[..60], RowsOf(split.Validation!), "the first 20% of the order are held out");
        CollectionAssert.AreEqual(order[60..90], RowsOf(sets.Calibration!), "the next 10% calibrate");
        CollectionAssert.AreEqual(order[90..190], RowsOf(split.Fit), "the next 100 train");
        Assert.AreSame(split.Fit, sets.ModelFit);
        CollectionAssert.AreEqual(Enumerable.Range(0, Rows).ToArray(), RowsOf(sets.All), "the final fit has every row, the last 110 of the order too");
    }
}
