using System.Linq;
using System;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>The memory estimate made before training, and the budget that refuses a fit instead of failing midway.</summary>
[TestClass]
public sealed class KareMemoryEstimateTests
{
    private static readonly KareNetworkArchitecture Diamonds = new(26, new[] { 64 }, KareActivation.Gelu);

    [TestMethod]
    public void KernelSpaceGrowsWithTheSquareOfTheRows()
    {
        long Final(long n) => KareMemoryEstimate.For(n, 26, 1, Diamonds, KareMethod.Kare, 2048, 0, 0, parameterSpace: false, leaveOneOut: false).FitBytes;
        // Four n×n float64 matrices dominate: 16,000 rows ≈ 8 GB (7.6 GB peak resident memory was measured there).
        Assert.AreEqual(4.0 * 16000 * 16000 * 8, Final(16000), 0.01 * Final(16000));
        Assert.AreEqual(4.0, Final(16000) / (double)Final(8000), 0.05);
    }

    [TestMethod]
    public void ParameterSpaceDoesNotGrowWithTheSquareOfTheRows()
    {
        long Peak(long n) => KareMemoryEstimate.For(n, 26, 1, Diamonds, KareMethod.Kare, 2048, n / 5, 2000, parameterSpace: true, leaveOneOut: false).TotalBytes;
        // Full diamonds (43,152 training rows): 1.51 GB peak resident memory was measured.
        long diamonds = Peak(43152);
        Assert.IsGreaterThan(0.8e9, (double)diamonds);
        Assert.IsLessThan(1.6e9, (double)diamonds);
        Assert.IsLessThan(2.0, Peak(86304) / (double)diamonds, "doubling the rows less than doubles the estimate");
    }

    [TestMethod]
    public void ParameterSpaceStepsHoldBlocksOfTheJacobianNotTheKernel()
    {
        var simulation = new KareNetworkArchitecture(10, new[] { 64 }, KareActivation.Gelu); // P = 769
        long Training(TrainingSpace space) => KareMemoryEstimate.For(20000, 10, 1, simulation, KareMethod.Kare, 16000, 4000, 2000,
            parameterSpace: true, leaveOneOut: false, space, space).TrainingBytes;
        // Kernel path: six 16,000² matrices (12 GB); parameter space: a 64 MB block of J four times and five 769² matrices.
        Assert.IsGreaterThan(10e9, (double)Training(TrainingSpace.Kernel));
        Assert.IsLessThan(0.5e9, (double)Training(TrainingSpace.Parameter));
        Assert.IsGreaterThan(4.0 * 64e6 * 0.9, (double)Training(TrainingSpace.Parameter));
    }

    [TestMethod]
    public void FitRefusesToStartAboveTheBudgetAndNamesTheOption()
    {
        var random = new Random(1);
        const int Rows = 300;
        double[] features = Enumerable.Range(0, Rows * 2).Select(_ => random.NextDouble()).ToArray();
        double[] targets = Enumerable.Range(0, Rows).Select(i => features[2 * i]).ToArray();
        var data = new KareTrainingData(features, Rows, 2, targets, 1, null);
        var monitor = new RecordingMonitor();
        var settings = new KareFitSettings
        {
            HiddenWidths = new[] { 8 },
            Epochs = 2,
            RelativeRidgeGrid = new[] { 1e-3 },
            MemoryBudgetBytes = KareMemoryEstimate.RuntimeBytes + 1000,
        };
        var error = Assert.ThrowsExactly<InsufficientMemoryException>(() => KareFitter.Fit(data, settings, monitor));
        StringAssert.Contains(error.Message, "MaximumMemoryMegabytes");
        Assert.IsEmpty(monitor.Epochs, "refused before training");

        KareFitter.Fit(data, settings with { MemoryBudgetBytes = long.MaxValue }, monitor);
        Assert.IsTrue(monitor.Messages.Any(m => m.Contains("estimated peak memory", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void TrainerOptionSetsTheBudget()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(Trainers.KareRegressionTrainerPipelineTests.VectorRow.Generate(100, seed: 1));
        var trainer = mlContext.Regression.Trainers.Kare(new KareRegressionTrainer.Options { MaximumMemoryMegabytes = 1, NumberOfEpochs = 1 });
        var error = Assert.ThrowsExactly<InsufficientMemoryException>(() => trainer.Fit(data));
        StringAssert.Contains(error.Message, "MaximumMemoryMegabytes");
    }

    [TestMethod]
    public void ABudgetBelowTheRuntimeSaysThatOnlyALargerBudgetHelps()
    {
        // 1 MB is below the runtime's own ~400 MB: fewer rows or narrower layers would not help, so the message must not advise them.
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(Trainers.KareRegressionTrainerPipelineTests.VectorRow.Generate(100, seed: 1));
        var trainer = mlContext.Regression.Trainers.Kare(new KareRegressionTrainer.Options { MaximumMemoryMegabytes = 1, NumberOfEpochs = 1 });
        var error = Assert.ThrowsExactly<InsufficientMemoryException>(() => trainer.Fit(data));
        StringAssert.Contains(error.Message, "runtime alone");
        Assert.DoesNotContain("narrower hidden layers", error.Message);

        // A budget above the runtime but below the fit's matrices names the fit's share and the options that shrink it.
        var estimate = KareMemoryEstimate.For(100_000, 26, 1, Diamonds, KareMethod.Kare, 2048, 20_000, 2000, parameterSpace: false, leaveOneOut: false);
        string message = estimate.DescribeShortfall(KareMemoryEstimate.RuntimeBytes + (10L << 20), "100000 rows.");
        StringAssert.Contains(message, "narrower hidden layers");
        StringAssert.Contains(message, KareMemoryEstimate.Format(estimate.FitBytes));
    }

    [TestMethod]
    public void SizesAreWrittenInMegabytesOrGigabytesAndAnUnknownBudgetAsNoLimit()
    {
        Assert.AreEqual("512 MB", KareMemoryEstimate.Format(512L << 20));
        Assert.AreEqual("1.5 GB", KareMemoryEstimate.Format(3L << 29).Replace(',', '.'));
        Assert.AreEqual("no limit", KareMemoryEstimate.Format(long.MaxValue));
    }
}
