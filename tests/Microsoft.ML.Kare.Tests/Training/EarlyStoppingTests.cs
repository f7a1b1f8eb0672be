using System.Linq;
using System;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>The held-out measurement schedule and early stopping (on held-out error, or on a plateau of the objective).</summary>
[TestClass]
public sealed class EarlyStoppingTests
{
    [TestMethod]
    public void AutomaticScheduleMeasuresEarlyEpochsTheLastAndEveryFifthOfOneHundred()
    {
        int[] measured = Enumerable.Range(0, 101).Where(e => ValidationSchedule.IsDue(e, 100, interval: 0)).ToArray();
        int[] expected = Enumerable.Range(0, 11).Concat(Enumerable.Range(3, 17).Select(k => 5 * k)).Append(100).ToArray();
        CollectionAssert.AreEqual(expected, measured);
        Assert.IsTrue(Enumerable.Range(0, 31).All(e => ValidationSchedule.IsDue(e, 30, interval: 0)), "30 epochs: every epoch");
        Assert.IsTrue(ValidationSchedule.IsDue(12, 100, interval: 3));
        Assert.IsFalse(ValidationSchedule.IsDue(13, 100, interval: 3));
    }

    [TestMethod]
    public void AutomaticPatienceIsAboutFourHundredStepsForMiniBatchesAndTwentyEpochsForFullBatches()
    {
        Assert.AreEqual(0, EpochSelector.AutomaticPatience(1, heldOut: false), "GCV on full batches: the paper's protocol");
        Assert.AreEqual(20, EpochSelector.AutomaticPatience(1, heldOut: true), "full batches with held-out rows");
        Assert.AreEqual(20, EpochSelector.AutomaticPatience(21, heldOut: true), "diamonds: 21 mini-batches per epoch");
        Assert.AreEqual(10, EpochSelector.AutomaticPatience(100, heldOut: true), "at least 10 epochs");
        Assert.AreEqual(20, EpochSelector.AutomaticPatience(2, heldOut: true), "two mini-batches: no more than full batches' 20 epochs");
    }

    [TestMethod]
    public void AutomaticPatienceStopsMiniBatchTrainingAfterTheBestEpoch()
    {
        // 120 fit rows in batches of 2: 60 mini-batches per epoch, so the automatic patience is 10 epochs.
        KareFitResult result = KareFitter.Fit(CreateData(), Settings(epochs: 60, learningRate: 5) with
        {
            BatchSize = 2,
            EarlyStoppingPatience = null,
        }, new RecordingMonitor());

        // Replay the rule on the recorded held-out errors (measured every epoch up to 10, then every 3rd of 60).
        double best = double.PositiveInfinity;
        int bestEpoch = 0, expectedStop = 60;
        foreach (KareEpochSummary point in result.TrainingCurve.Where(p => double.IsFinite(p.ValidationError)))
        {
            if (point.ValidationError < best)
                (best, bestEpoch) = (point.ValidationError, point.Epoch);
            if (point.Epoch - bestEpoch >= 10 && point.Epoch < 60)
            {
                expectedStop = point.Epoch;
                break;
            }
        }
        Assert.AreEqual(expectedStop, result.TrainingCurve[^1].Epoch);
        Assert.AreEqual(bestEpoch, result.SelectedEpoch);
        Assert.IsLessThan(60, expectedStop, "mini-batch training stopped early by default");
    }

    [TestMethod]
    public void HoldOutSelectionOnlyConsidersMeasuredEpochs()
    {
        KareFitResult result = KareFitter.Fit(CreateData(), Settings(epochs: 40, learningRate: 5) with { ValidationInterval = 7 }, new RecordingMonitor());
        Assert.HasCount(41, result.TrainingCurve);
        foreach (KareEpochSummary point in result.TrainingCurve)
            Assert.AreEqual(ValidationSchedule.IsDue(point.Epoch, 40, 7), double.IsFinite(point.ValidationError), $"epoch {point.Epoch}");
        Assert.IsTrue(ValidationSchedule.IsDue(result.SelectedEpoch, 40, 7));
        double best = result.TrainingCurve.Where(p => double.IsFinite(p.ValidationError)).Min(p => p.ValidationError);
        Assert.AreEqual(best, result.TrainingCurve[result.SelectedEpoch].ValidationError);
    }

    [TestMethod]
    public void StopsWhenTheHeldOutErrorStopsImproving()
    {
        // A step far too small to change the kernel: the held-out error cannot improve by more than rounding.
        var monitor = new RecordingMonitor();
        KareFitResult result = KareFitter.Fit(CreateData(), Settings(epochs: 60, learningRate: 1e-12) with { EarlyStoppingPatience = 4 }, monitor);
        int lastEpoch = result.TrainingCurve[^1].Epoch;
        Assert.IsLessThan(60, lastEpoch, "stopped early");
        Assert.AreEqual(result.SelectedEpoch + 4, lastEpoch, "stopped exactly `patience` epochs after the best one");
        Assert.IsTrue(monitor.Messages.Any(m => m.StartsWith("Early stopping", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void StopsOnAPlateauOfTheObjectiveWithoutHoldOut()
    {
        var monitor = new RecordingMonitor();
        KareFitResult result = KareFitter.Fit(CreateData(), Settings(epochs: 60, learningRate: 1e-12) with
        {
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            EarlyStoppingPatience = 5,
        }, monitor);
        Assert.AreEqual(5, result.TrainingCurve[^1].Epoch, "ρ never falls by 0.1%: stop after `patience` epochs");
        Assert.AreEqual(5, result.SelectedEpoch, "without a hold-out the last epoch is kept");
    }

    [TestMethod]
    public void PlateauStopFollowsTheRuleOnARealCurve()
    {
        const int Patience = 3;
        KareFitResult result = KareFitter.Fit(CreateData(), Settings(epochs: 40, learningRate: 5) with
        {
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            EarlyStoppingPatience = Patience,
        }, new RecordingMonitor());

        // Replay the rule on the recorded objective: progress is a fall below (1 − 1e-3)·best.
        double best = double.PositiveInfinity;
        int lastImprovement = 0, expectedStop = 40;
        foreach (KareEpochSummary point in result.TrainingCurve)
        {
            if (point.Kare < best * (1 - EpochSelector.PlateauRelativeImprovement))
                (best, lastImprovement) = (point.Kare, point.Epoch);
            if (point.Epoch - lastImprovement >= Patience)
            {
                expectedStop = point.Epoch;
                break;
            }
        }
        Assert.AreEqual(expectedStop, result.TrainingCurve[^1].Epoch);
        Assert.IsGreaterThan(Patience, expectedStop, "ρ fell for a while before its plateau");
    }

    private static KareFitSettings Settings(int epochs, double learningRate) => new()
    {
        HiddenWidths = new[] { 16 },
        Epochs = epochs,
        LearningRate = learningRate,
        RelativeRidgeGrid = Dense.LogSpace(1e-5, 1, 11),
        Seed = 3,
    };

    private static KareTrainingData CreateData()
    {
        const int Rows = 150, Inputs = 3;
        var random = new Random(5);
        double[] features = Enumerable.Range(0, Rows * Inputs).Select(_ => random.NextDouble() * 4 - 2).ToArray();
        double[] targets = Enumerable.Range(0, Rows).Select(i => Math.Sin(2 * features[i * Inputs]) * features[i * Inputs + 1] + 0.05 * random.NextDouble()).ToArray();
        return new KareTrainingData(features, Rows, Inputs, targets, 1, null);
    }
}
