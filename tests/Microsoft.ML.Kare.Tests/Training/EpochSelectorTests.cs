using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// <see cref="EpochSelector"/> on recorded epochs, without training: which epoch (and λ̃) is kept, what divergence
/// falls back to, and when training stops early.
/// </summary>
[TestClass]
public sealed class EpochSelectorTests
{
    private static readonly double[] Grid = { 0.01, 0.1, 1 };

    /// <summary>A distinct state per epoch: θ = (epoch, 1), anchor = (epoch, 2), so a kept anchor is told apart from θ.</summary>
    private static ModelState State(int epoch) => new(new double[] { epoch, 1 }, new double[] { epoch, 2 });

    /// <summary>The state an epoch starts from (θ only, as the fitter records it).</summary>
    private static ModelState Start(int epoch) => ModelState.Of(new double[] { epoch, -1 });

    private static HeldOutErrors Errors(params double[] errors) => new(errors, Grid);

    [TestMethod]
    public void HoldOutKeepsTheLowestMeasuredErrorAndItsRidge()
    {
        var selector = new EpochSelector(heldOut: true, patience: 0, epochs: 5, initial: State(0));
        var snapshots = new List<int>();
        EpochVerdict Record(int epoch, HeldOutErrors? errors)
            => selector.Record(epoch, objective: 1.0 / (epoch + 1), errors, diverged: false, Start(epoch), () => { snapshots.Add(epoch); return State(epoch); });

        Assert.AreEqual(EpochVerdict.Continue, Record(0, Errors(0.5, 0.4, 0.6)));
        Assert.AreEqual(0.4, selector.BestError);
        Assert.AreEqual(0.1, selector.BestRelativeRidge);
        Assert.AreEqual(EpochVerdict.Continue, Record(1, Errors(0.3, 0.35, 0.9)));
        Assert.AreEqual(EpochVerdict.Continue, Record(2, null));        // not measured: cannot become the best
        Assert.AreEqual(EpochVerdict.Continue, Record(3, Errors(0.31, 0.32, 0.33)));
        Assert.AreEqual(EpochVerdict.Continue, Record(4, Errors(0.3, 0.5, 0.5))); // a tie does not replace the earlier epoch
        Assert.AreEqual(EpochVerdict.Continue, Record(5, Errors(0.7, 0.8, 0.9)));

        Assert.AreEqual(1, selector.BestEpoch);
        Assert.AreEqual(0.3, selector.BestError);
        Assert.AreEqual(0.01, selector.BestRelativeRidge);
        CollectionAssert.AreEqual(State(1).Parameters, selector.Best.Parameters);
        CollectionAssert.AreEqual(State(1).Anchor, selector.Best.Anchor, "the kept state is the snapshot, anchor included");
        CollectionAssert.AreEqual(new[] { 0, 1 }, snapshots, "a snapshot is taken only when an epoch becomes the best");
        Assert.AreEqual(1, selector.LastImprovement);
    }

    [TestMethod]
    public void HoldOutKeepsTheInitialStateUntilAnEpochIsMeasured()
    {
        var selector = new EpochSelector(heldOut: true, patience: 0, epochs: 3, initial: State(0));
        Assert.AreEqual(double.PositiveInfinity, selector.BestError);
        Assert.IsTrue(double.IsNaN(selector.BestRelativeRidge));
        selector.Record(1, 0.5, null, diverged: false, Start(1), () => State(1));
        Assert.AreEqual(0, selector.BestEpoch);
        CollectionAssert.AreEqual(State(0).Parameters, selector.Best.Parameters);
    }

    [TestMethod]
    public void WithoutHoldOutTheLastEpochIsKept()
    {
        var selector = new EpochSelector(heldOut: false, patience: 0, epochs: 4, initial: State(0));
        for (int epoch = 0; epoch <= 4; epoch++)
        {
            // Objectives that rise: without a hold-out the last epoch is kept all the same.
            Assert.AreEqual(EpochVerdict.Continue, selector.Record(epoch, 1.0 + epoch, null, diverged: false, Start(epoch), () => State(epoch)));
            Assert.AreEqual(epoch, selector.BestEpoch);
        }
        CollectionAssert.AreEqual(State(4).Parameters, selector.Best.Parameters);
        CollectionAssert.AreEqual(State(4).Anchor, selector.Best.Anchor);
        Assert.AreEqual(double.PositiveInfinity, selector.BestError);
        Assert.IsTrue(double.IsNaN(selector.BestRelativeRidge));
    }

    [TestMethod]
    public void DivergenceWithoutHoldOutKeepsTheEpochStartWhenItsObjectiveWasFinite()
    {
        EpochSelector selector = RecordedUpTo(epoch: 3);
        // Epoch 4's objective (measured at the parameters epoch 4 started from) is finite: its own update broke the model.
        EpochVerdict verdict = selector.Record(4, 0.2, null, diverged: true, Start(4), () => throw new AssertFailedException("no snapshot of a diverged epoch"));
        Assert.AreEqual(EpochVerdict.Diverged, verdict);
        Assert.AreEqual(3, selector.BestEpoch, "the start of epoch 4 is the end of epoch 3");
        CollectionAssert.AreEqual(Start(4).Parameters, selector.Best.Parameters);
        CollectionAssert.AreEqual(Start(4).Parameters, selector.Best.Anchor, "a fallback state is not linearised");
    }

    [TestMethod]
    public void DivergenceWithoutHoldOutKeepsThePreviousEpochStartWhenTheObjectiveWasNotFinite()
    {
        EpochSelector selector = RecordedUpTo(epoch: 3);
        // Epoch 4's objective is already NaN at its start: epoch 3's update broke the model, so keep where epoch 3 started.
        Assert.AreEqual(EpochVerdict.Diverged, selector.Record(4, double.NaN, null, diverged: true, Start(4), () => State(4)));
        Assert.AreEqual(2, selector.BestEpoch, "the start of epoch 3 is the end of epoch 2");
        CollectionAssert.AreEqual(Start(3).Parameters, selector.Best.Parameters);

        // At epoch 1 the previous start is the initial state, epoch 0.
        EpochSelector early = RecordedUpTo(epoch: 0);
        Assert.AreEqual(EpochVerdict.Diverged, early.Record(1, double.PositiveInfinity, null, diverged: true, Start(1), () => State(1)));
        Assert.AreEqual(0, early.BestEpoch);
        CollectionAssert.AreEqual(Start(0).Parameters, early.Best.Parameters);
    }

    [TestMethod]
    public void DivergenceWithHoldOutKeepsTheBestMeasuredEpoch()
    {
        var selector = new EpochSelector(heldOut: true, patience: 0, epochs: 5, initial: State(0));
        selector.Record(0, 1.0, Errors(0.5, 0.5, 0.5), diverged: false, Start(0), () => State(0));
        selector.Record(1, 0.9, Errors(0.2, 0.5, 0.5), diverged: false, Start(1), () => State(1));
        selector.Record(2, 0.8, Errors(0.4, 0.5, 0.5), diverged: false, Start(2), () => State(2));
        Assert.AreEqual(EpochVerdict.Diverged, selector.Record(3, 0.7, null, diverged: true, Start(3), () => State(3)));
        Assert.AreEqual(1, selector.BestEpoch);
        CollectionAssert.AreEqual(State(1).Anchor, selector.Best.Anchor);
        Assert.AreEqual(0.2, selector.BestError);
    }

    [TestMethod]
    public void FallingBackToTheLastEpochStartKeepsTheStartOfTheLastEpoch()
    {
        EpochSelector selector = RecordedUpTo(epoch: 5, epochs: 5);
        Assert.AreEqual(5, selector.BestEpoch);
        selector.FallBackToLastEpochStart();
        Assert.AreEqual(4, selector.BestEpoch);
        CollectionAssert.AreEqual(Start(5).Parameters, selector.Best.Parameters);
        CollectionAssert.AreEqual(Start(5).Parameters, selector.Best.Anchor);
    }

    [TestMethod]
    public void HoldOutStopsEarlyOnlyAtAMeasuredEpochAfterThePatience()
    {
        var selector = new EpochSelector(heldOut: true, patience: 2, epochs: 10, initial: State(0));
        EpochVerdict Record(int epoch, HeldOutErrors? errors) => selector.Record(epoch, 1.0, errors, diverged: false, Start(epoch), () => State(epoch));

        Assert.AreEqual(EpochVerdict.Continue, Record(0, Errors(1.0)));
        Assert.AreEqual(EpochVerdict.Continue, Record(1, Errors(0.5)));  // improves
        Assert.AreEqual(EpochVerdict.Continue, Record(2, Errors(0.6)));
        Assert.AreEqual(EpochVerdict.Continue, Record(3, null), "two epochs without improvement, but not measured");
        Assert.AreEqual(EpochVerdict.Continue, Record(4, null));
        Assert.AreEqual(EpochVerdict.StopEarly, Record(5, Errors(0.55)));
        Assert.AreEqual(1, selector.LastImprovement);
        Assert.AreEqual(1, selector.BestEpoch);
    }

    [TestMethod]
    public void HoldOutImprovementResetsThePatience()
    {
        var selector = new EpochSelector(heldOut: true, patience: 2, epochs: 10, initial: State(0));
        EpochVerdict Record(int epoch, double error) => selector.Record(epoch, 1.0, Errors(error), diverged: false, Start(epoch), () => State(epoch));

        Record(0, 1.0);
        Record(1, 1.1);
        Assert.AreEqual(EpochVerdict.Continue, Record(2, 0.9), "improves at the epoch the patience would run out");
        Assert.AreEqual(EpochVerdict.Continue, Record(3, 0.95));
        Assert.AreEqual(EpochVerdict.StopEarly, Record(4, 0.95));
        Assert.AreEqual(2, selector.BestEpoch);
    }

    [TestMethod]
    public void WithoutHoldOutAPlateauOfTheObjectiveStopsTraining()
    {
        // Relative falls: 1000 → 999.5 (0.05%, no progress), → 998.95 (0.105% below 1000: progress), then flat.
        var selector = new EpochSelector(heldOut: false, patience: 2, epochs: 10, initial: State(0));
        EpochVerdict Record(int epoch, double objective) => selector.Record(epoch, objective, null, diverged: false, Start(epoch), () => State(epoch));

        Assert.AreEqual(EpochVerdict.Continue, Record(0, 1000));
        Assert.AreEqual(EpochVerdict.Continue, Record(1, 999.5));
        Assert.AreEqual(EpochVerdict.Continue, Record(2, 998.95), "a relative fall of more than 1e-3 since epoch 0");
        Assert.AreEqual(2, selector.LastImprovement);
        Assert.AreEqual(EpochVerdict.Continue, Record(3, 998.1));   // 0.085% below 998.95: no progress
        Assert.AreEqual(EpochVerdict.StopEarly, Record(4, 998.0));
        Assert.AreEqual(2, selector.LastImprovement);
        Assert.AreEqual(4, selector.BestEpoch, "without a hold-out the last epoch is still the one kept");
    }

    [TestMethod]
    public void WithoutHoldOutProgressIsARelativeFallOfTheBestObjective()
    {
        foreach (double scale in new[] { 1e-6, 1.0, 1e6 })
        {
            // A fall of 0.09% is no progress, whatever the scale of the objective: stop three epochs after epoch 0.
            var flat = new EpochSelector(heldOut: false, patience: 3, epochs: 10, initial: State(0));
            Assert.AreEqual(EpochVerdict.Continue, flat.Record(0, scale, null, diverged: false, Start(0), () => State(0)));
            for (int epoch = 1; epoch <= 3; epoch++)
            {
                EpochVerdict verdict = flat.Record(epoch, scale * (1 - 0.9e-3), null, diverged: false, Start(epoch), () => State(epoch));
                Assert.AreEqual(epoch == 3 ? EpochVerdict.StopEarly : EpochVerdict.Continue, verdict, $"scale {scale}, epoch {epoch}");
            }
            Assert.AreEqual(0, flat.LastImprovement);

            // A fall of 0.11% is progress.
            var falling = new EpochSelector(heldOut: false, patience: 3, epochs: 10, initial: State(0));
            falling.Record(0, scale, null, diverged: false, Start(0), () => State(0));
            for (int epoch = 1; epoch <= 3; epoch++)
                Assert.AreEqual(EpochVerdict.Continue, falling.Record(epoch, scale * (1 - 1.1e-3), null, diverged: false, Start(epoch), () => State(epoch)));
            Assert.AreEqual(1, falling.LastImprovement, $"scale {scale}");
        }
    }

    [TestMethod]
    public void NoEarlyStoppingWithoutPatienceOrAtTheLastEpoch()
    {
        var never = new EpochSelector(heldOut: false, patience: 0, epochs: 20, initial: State(0));
        for (int epoch = 0; epoch <= 20; epoch++)
            Assert.AreEqual(EpochVerdict.Continue, never.Record(epoch, 1.0, null, diverged: false, Start(epoch), () => State(epoch)));

        var last = new EpochSelector(heldOut: false, patience: 2, epochs: 2, initial: State(0));
        last.Record(0, 1.0, null, diverged: false, Start(0), () => State(0));
        last.Record(1, 1.0, null, diverged: false, Start(1), () => State(1));
        Assert.AreEqual(EpochVerdict.Continue, last.Record(2, 1.0, null, diverged: false, Start(2), () => State(2)), "the last epoch ends training anyway");
    }

    /// <summary>A selector without a hold-out that has recorded epochs 0 to <paramref name="epoch"/>, each from <see cref="Start"/>.</summary>
    private static EpochSelector RecordedUpTo(int epoch, int epochs = 10)
    {
        var selector = new EpochSelector(heldOut: false, patience: 0, epochs: epochs, initial: Start(0));
        for (int e = 0; e <= epoch; e++)
        {
            int current = e;
            Assert.AreEqual(EpochVerdict.Continue, selector.Record(e, 1.0, null, diverged: false, Start(e), () => State(current)));
        }
        return selector;
    }
}
