using System;
using System.Linq;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>How a hold-out plan splits the rows: held out, calibration, training, and the rows only the final fit uses.</summary>
[TestClass]
public sealed class FitRowSetsTests
{
    /// <summary>A 20% hold-out and 90% intervals (10% of the rows calibrate).</summary>
    private static readonly KareFitSettings HoldOutWithIntervals = new()
    {
        HiddenWidths = new[] { 4 },
        RelativeRidgeGrid = new[] { 1e-2 },
        RidgeSelection = KareRidgeSelection.HoldOut,
        ValidationFraction = 0.2,
        IntervalCoverage = 0.9,
    };

    [TestMethod]
    public void WithAKernelTrainingLimitTheRowsAfterTheTrainingRowsServeOnlyTheFinalFit()
    {
        const int Rows = 300;
        var random = new Random(5);
        double[] features = Enumerable.Range(0, Rows * 2).Select(_ => random.NextDouble()).ToArray();
        // Each target is its row's index, so a set's targets name its rows.
        double[] targets = Enumerable.Range(0, Rows).Select(i => (double)i).ToArray();
        var data = new KareTrainingData(features, Rows, 2, targets, 1, null);
        KareFitSettings settings = HoldOutWithIntervals with { MaximumKernelTrainingRows = 100 };
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

    [TestMethod]
    public void TheLabelScreenSeesNeitherHeldOutNorCalibrationRows()
    {
        const int Rows = 300;
        KareFitSettings settings = HoldOutWithIntervals;
        int[] order = KareFitter.Permutation(Rows, new Random(8));
        double[] weights = Enumerable.Range(0, Rows).Select(i => 0.5 + i % 3).ToArray();

        FitPlan holdOut = FitPlan.Create(Rows, 2, 1, settings);
        double[] screened = FitRowSets.ScreenWeights(weights, order, holdOut)!;
        double[] unweighted = FitRowSets.ScreenWeights(null, order, holdOut)!;
        int kept = holdOut.ValidationRows + holdOut.CalibrationRows;
        Assert.AreEqual(90, kept, "60 held out and 30 calibrating");
        foreach (int row in order[..kept])
            Assert.IsTrue(screened[row] == 0 && unweighted[row] == 0, $"row {row}");
        foreach (int row in order[kept..])
            Assert.IsTrue(screened[row] == weights[row] && unweighted[row] == 1, $"row {row}");
        Assert.AreEqual(0.5 + order[0] % 3, weights[order[0]], "the caller's weights are not changed");

        FitPlan crossValidation = FitPlan.Create(Rows, 2, 1, settings with { RidgeSelection = KareRidgeSelection.CrossValidation, IntervalCoverage = 0 });
        Assert.AreSame(weights, FitRowSets.ScreenWeights(weights, order, crossValidation), "every row trains some fold");
        Assert.IsNull(FitRowSets.ScreenWeights(null, order, crossValidation));
    }
}
