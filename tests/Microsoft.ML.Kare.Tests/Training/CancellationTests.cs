using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML.Kare.LibTorch;
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

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void AFitCancelledDuringALargeEigendecompositionReturnsAtOnceAndTheNextFitWaitsForIt()
    {
        // The kernel at initialisation with λ̃ by GCV on 1,500 rows: the final fit decomposes the 1,500-row kernel in one
        // call that cannot stop part-way (about a second on 2 cores; the kernel has full rank, P = 3,073 ≥ n, since a
        // low-rank one decomposes in a fraction of that), on a worker thread while the fit keeps checking.
        KareFitSettings settings = Settings() with
        {
            HiddenWidths = new[] { 768 },
            Method = KareMethod.NtkAtInitialization,
            Epochs = 0,
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            StepSpace = TrainingSpace.Kernel,
            HeldOutSpace = TrainingSpace.Kernel,
        };
        KareTrainingData data = Data(1500);
        var cancelling = new CancelDuringNativeCallMonitor();
        Assert.ThrowsExactly<OperationCanceledException>(() => KareFitter.Fit(data, settings, cancelling));
        TimeSpan latency = cancelling.SinceCancelled;
        bool leftRunning = !CancellableNativeCall.Pending.IsCompleted;
        Assert.IsTrue(cancelling.Cancelled, "a check came while the eigendecomposition ran");
        Assert.IsTrue(leftRunning, "Fit returned before the eigendecomposition ended");
        Assert.IsLessThan(TimeSpan.FromSeconds(0.5), latency, $"Fit returned {latency.TotalSeconds:F3} s after the cancelling check");

        var next = new CancelDuringNativeCallMonitor { Cancels = false };
        KareFitter.Fit(data, settings, next);
        Assert.IsTrue(next.Messages.Any(m => m.Contains("still running", StringComparison.Ordinal)), "the next fit waited for the call left behind");
        Assert.IsTrue(CancellableNativeCall.Pending.IsCompleted);
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

    private static KareTrainingData Data(int rows = 90)
    {
        int Rows = rows;
        const int Inputs = 2;
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

    /// <summary>
    /// Cancels at the first check made while a native call runs on its worker thread (a check from
    /// <see cref="CancellableNativeCall"/>'s wait), and at every check after it; keeps the log.
    /// </summary>
    private sealed class CancelDuringNativeCallMonitor : ITrainingMonitor<KareEpochSummary>
    {
        private readonly Stopwatch _sinceCancelled = new();

        public bool Cancels { get; init; } = true;

        public bool Cancelled => _sinceCancelled.IsRunning;

        public List<string> Messages { get; } = new();

        /// <summary>From the first check that threw to now.</summary>
        public TimeSpan SinceCancelled => _sinceCancelled.Elapsed;

        public void Info(string message) => Messages.Add(message);

        public void Warning(string message) => Messages.Add(message);

        public void Report(KareEpochSummary progress, int total)
        {
        }

        public void CheckAlive()
        {
            if (Cancels && !Cancelled && new StackTrace().ToString().Contains(nameof(CancellableNativeCall) + "." + nameof(CancellableNativeCall.Run), StringComparison.Ordinal))
                _sinceCancelled.Start();
            if (Cancelled)
                throw new OperationCanceledException("cancelled in the test");
        }
    }
}
