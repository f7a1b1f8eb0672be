using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// Cancellation, tested deterministically: a monitor that cancels at its k-th check. For every k of a whole fit, the
/// fit throws at that check and has reported exactly the epochs the uncancelled fit had reported by then, so no work
/// continues past a check; and the fit checks before its first epoch, between steps, around each held-out measurement,
/// before the final fit and between its factorisations (the fold networks' final fits through one shared check).
/// </summary>
[TestClass]
public sealed class CancellationTests
{
    [TestMethod]
    [DataRow("full batch, kernel space, hold-out")]
    [DataRow("parameter space")]
    [DataRow("mini-batches")]
    [DataRow("generalised cross-validation")]
    [DataRow("cross-validation")]
    [DataRow("network readout")]
    public void EveryCheckStopsTheFitThere(string path)
    {
        KareFitSettings settings = path switch
        {
            "parameter space" => Settings() with { StepSpace = TrainingSpace.Parameter, HeldOutSpace = TrainingSpace.Parameter },
            "mini-batches" => Settings() with { BatchSize = 30 },
            "generalised cross-validation" => Settings() with { RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation },
            "cross-validation" => Settings() with { RidgeSelection = KareRidgeSelection.CrossValidation, Folds = 3 },
            "network readout" => Settings() with { Method = KareMethod.NeuralNetwork },
            _ => Settings() with { StepSpace = TrainingSpace.Kernel, HeldOutSpace = TrainingSpace.Kernel },
        };
        KareTrainingData data = Data();
        var counting = new EpochsAtCheckMonitor();
        KareFitter.Fit(data, settings, counting);
        int checks = counting.EpochsAtCheck.Count;
        Assert.IsGreaterThanOrEqualTo(settings.Epochs + 3, checks, $"{path}: a check before training, at every epoch and before the final fit");
        Assert.AreEqual(0, counting.EpochsAtCheck[0], $"{path}: the first check comes before any epoch");
        if (path != "network readout")
        {
            // Before the final fit, after its kernel or its blocks of rows, and after its factorisation.
            int afterTraining = counting.EpochsAtCheck.Count(epochs => epochs == counting.EpochsAtCheck[^1]);
            Assert.IsGreaterThanOrEqualTo(3, afterTraining, $"{path}: checks inside the final ridge regression");
        }

        for (int k = 1; k <= checks; k++)
        {
            var cancelling = new RecordingMonitor { CancelAtCheck = k };
            Assert.ThrowsExactly<OperationCanceledException>(() => KareFitter.Fit(data, settings, cancelling), $"{path}: cancelled at check {k}");
            Assert.AreEqual(k, cancelling.CheckAliveCalls, $"{path}: nothing checked after the cancelling check {k}");
            Assert.HasCount(counting.EpochsAtCheck[k - 1], cancelling.Epochs, $"{path}: epochs reported when cancelled at check {k}");
        }
    }

    private static KareFitSettings Settings() => new()
    {
        HiddenWidths = new[] { 6 },
        Epochs = 4,
        LearningRate = 1,
        MeanSquaredErrorLearningRate = 0.05,
        RelativeRidgeGrid = Dense.LogSpace(1e-4, 1, 5),
        Seed = 1,
    };

    private static KareTrainingData Data()
    {
        const int Rows = 90, Inputs = 2;
        var random = new Random(3);
        double[] features = Enumerable.Range(0, Rows * Inputs).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] targets = Enumerable.Range(0, Rows).Select(i => Math.Sin(3 * features[2 * i]) + features[2 * i + 1]).ToArray();
        return new KareTrainingData(features, Rows, Inputs, targets, 1, null);
    }

    /// <summary>Records, at each check, how many epochs had been reported.</summary>
    private sealed class EpochsAtCheckMonitor : ITrainingMonitor<KareEpochSummary>
    {
        private int _epochs;

        public List<int> EpochsAtCheck { get; } = new();

        public void Info(string message)
        {
        }

        public void Warning(string message)
        {
        }

        public void Report(KareEpochSummary progress, int total) => _epochs++;

        public void CheckAlive() => EpochsAtCheck.Add(_epochs);
    }
}
