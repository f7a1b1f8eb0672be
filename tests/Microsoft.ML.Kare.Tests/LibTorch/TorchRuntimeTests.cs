using System.Collections.Generic;
using System.Linq;
using System;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.LibTorch;

[TestClass]
public sealed class TorchRuntimeTests
{
    [TestMethod]
    public void InitializeMakesOpenMpWaitPassivelyUnlessTheUserChose()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("The wait policy is set through glibc's setenv on Linux only.");
        string? chosen = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        TorchRuntime.Initialize();
        TorchRuntime.Initialize();
        Assert.AreEqual(chosen ?? "PASSIVE", TorchRuntime.GetNativeEnvironmentVariable("OMP_WAIT_POLICY"));
    }

    /// <summary>
    /// Small fits and cross-validation's fold networks run on one libtorch thread each and say so, larger hold-out fits
    /// and an explicit NumberOfThreads keep their count, and the process-wide count is restored after every fit.
    /// </summary>
    [TestMethod]
    public void FitChoosesAndRestoresTheThreadCount()
    {
        TorchRuntime.Initialize();
        int original = torch.get_num_threads();
        var threadsDuringFit = new List<int>();
        foreach (var (rows, threads, selection) in new[]
                 {
                     (60, (int?)null, KareRidgeSelection.HoldOut), (60, (int?)2, KareRidgeSelection.HoldOut),
                     (800, (int?)null, KareRidgeSelection.HoldOut), (800, (int?)null, KareRidgeSelection.Automatic),
                 })
        {
            var random = new Random(rows);
            int d = 3;
            double[] x = Enumerable.Range(0, rows * d).Select(_ => random.NextDouble()).ToArray();
            double[] y = Enumerable.Range(0, rows).Select(i => x[i * d] - x[i * d + 1]).ToArray();
            var options = new KareRegressionTrainer.Options { Seed = 1, HiddenLayerWidths = new[] { 8 }, NumberOfEpochs = 1, NumberOfThreads = threads, RidgeSelection = selection };
            var monitor = new RecordingMonitor { OnEpoch = summary => { if (summary.Epoch == 0) threadsDuringFit.Add(torch.get_num_threads()); } };
            KareFitter.Fit(new KareTrainingData(x, rows, d, y, 1, null), KareTraining.CreateSettings(options, seed: 1), monitor);
            Assert.AreEqual(original, torch.get_num_threads(), $"{rows} rows, NumberOfThreads {threads}: thread count not restored");
            bool singleThreadMessage = monitor.Messages.Any(m => m.Contains("one libtorch thread", StringComparison.Ordinal));
            bool crossValidation = selection == KareRidgeSelection.Automatic;
            Assert.AreEqual(threads is null && (rows == 60 || crossValidation), singleThreadMessage, $"{rows} rows, NumberOfThreads {threads}: " + string.Join(" | ", monitor.Messages));
            Assert.AreEqual(crossValidation, monitor.Messages.Any(m => m.Contains("fold networks train side by side", StringComparison.Ordinal)));
        }
        // During the fits: one thread for the small hold-out fit, two when asked, libtorch's own count for an 800-row
        // hold-out (640 per step), one for the 800-row cross-validation (its folds side by side).
        CollectionAssert.AreEqual(new[] { 1, 2, original, 1 }, threadsDuringFit);
    }
}
