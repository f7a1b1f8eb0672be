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
    /// Small fits run on one libtorch thread and say so, larger ones and an explicit NumberOfThreads keep their count,
    /// and the process-wide count is restored after every fit.
    /// </summary>
    [TestMethod]
    public void FitChoosesAndRestoresTheThreadCount()
    {
        TorchRuntime.Initialize();
        int original = torch.get_num_threads();
        var threadsDuringFit = new List<int>();
        foreach (var (rows, threads) in new[] { (60, (int?)null), (60, (int?)2), (800, (int?)null) })
        {
            var random = new Random(rows);
            int d = 3;
            double[] x = Enumerable.Range(0, rows * d).Select(_ => random.NextDouble()).ToArray();
            double[] y = Enumerable.Range(0, rows).Select(i => x[i * d] - x[i * d + 1]).ToArray();
            var options = new KareRegressionTrainer.Options { Seed = 1, HiddenLayerWidths = new[] { 8 }, NumberOfEpochs = 1, NumberOfThreads = threads };
            var monitor = new RecordingMonitor { OnEpoch = summary => { if (summary.Epoch == 0) threadsDuringFit.Add(torch.get_num_threads()); } };
            KareFitter.Fit(new KareTrainingData(x, rows, d, y, 1, null), KareTraining.CreateSettings(options, seed: 1), monitor);
            Assert.AreEqual(original, torch.get_num_threads(), $"{rows} rows, NumberOfThreads {threads}: thread count not restored");
            bool singleThreadMessage = monitor.Messages.Any(m => m.Contains("one libtorch thread", StringComparison.Ordinal));
            Assert.AreEqual(rows == 60 && threads is null, singleThreadMessage, $"{rows} rows, NumberOfThreads {threads}: " + string.Join(" | ", monitor.Messages));
        }
        // During the fits: one thread for the small automatic fit, two when asked, libtorch's own count for 800 rows (640 per step).
        CollectionAssert.AreEqual(new[] { 1, 2, original }, threadsDuringFit);
    }
}
