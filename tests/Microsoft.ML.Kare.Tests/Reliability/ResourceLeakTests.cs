using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// 100 cycles of train (60 rows, width 8, 2 epochs), save, load, predict and dispose in one process keep the managed heap,
/// the process's resident memory and the number of live libtorch tensors flat after a warm-up.
/// </summary>
[TestClass]
public sealed class ResourceLeakTests
{
    private const int Cycles = 100;
    private const int WarmUpCycles = 20;

    /// <summary>Allowed growth per cycle (least-squares slope after the warm-up) of the managed heap after a full collection.</summary>
    private const double ManagedBytesPerCycle = 16 * 1024;

    /// <summary>
    /// Allowed growth per cycle of the resident set: a bound for gross native leaks (measured about 120 KB/cycle of
    /// allocator growth over 80 cycles, which the native heap keeps and reuses); small tensor leaks are caught by the
    /// live tensor count instead.
    /// </summary>
    private const double ResidentBytesPerCycle = 512 * 1024;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("Reliability")]
    public void HundredTrainSaveLoadPredictCyclesKeepMemoryFlat()
    {
        ReliabilityFixtures.RegressionRow[] train = ReliabilityFixtures.RegressionRows(60, seed: 1);
        ReliabilityFixtures.RegressionRow[] probe = ReliabilityFixtures.RegressionRows(20, seed: 2);
        Func<long>? liveTensors = LiveTensorCounter();
        var managed = new List<double>();
        var resident = new List<double>();
        var tensors = new List<double>();
        var tensorsBeforeCollection = new List<double>();

        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            RunCycle(cycle, train, probe);
            if (cycle < WarmUpCycles)
                continue;
            if (liveTensors is not null)
                tensorsBeforeCollection.Add(liveTensors());
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            managed.Add(GC.GetTotalMemory(forceFullCollection: true));
            resident.Add(ResidentBytes());
            if (liveTensors is not null)
                tensors.Add(liveTensors());
        }

        double managedSlope = Slope(managed), residentSlope = Slope(resident);
        TestContext.WriteLine($"After {WarmUpCycles} warm-up cycles, over {managed.Count} cycles: managed heap {managed[0] / 1024:F0} KB → {managed[^1] / 1024:F0} KB " +
                              $"(slope {managedSlope / 1024:F2} KB/cycle), resident set {resident[0] / 1048576:F1} MB → {resident[^1] / 1048576:F1} MB " +
                              $"(slope {residentSlope / 1024:F1} KB/cycle)");
        if (liveTensors is not null)
        {
            TestContext.WriteLine($"Live tensors after a full collection: {tensors[0]} → {tensors[^1]} (slope {Slope(tensors):F3}/cycle); " +
                                  $"before the collection (left to finalizers): {tensorsBeforeCollection.Average() - tensors.Average():F1} per cycle on average");
            Assert.IsLessThan(0.5, Slope(tensors), "live tensors grow from cycle to cycle");
            Assert.IsLessThan(0.5, tensorsBeforeCollection.Average() - tensors.Average(), "tensors are left to the finalizer instead of being disposed");
        }
        Assert.IsLessThan(ManagedBytesPerCycle, managedSlope, "managed heap grows from cycle to cycle");
        Assert.IsLessThan(ResidentBytesPerCycle, residentSlope, "resident memory grows from cycle to cycle");
    }

    /// <summary>
    /// Every training method disposes every tensor it creates: the live tensor count after a fit equals the count before
    /// it, without a garbage collection in between (a tensor left to the finalizer holds native memory until a
    /// collection happens to run).
    /// </summary>
    [TestMethod]
    [TestCategory("Reliability")]
    [DynamicData(nameof(AllMethods))]
    public void FitDisposesEveryTensor(KareMethod method)
    {
        Func<long> liveTensors = LiveTensorCounter() ?? throw new AssertInconclusiveException("TorchSharp exposes no Tensor.TotalCount.");
        ReliabilityFixtures.RegressionRow[] train = ReliabilityFixtures.RegressionRows(60, seed: 1);
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(train);
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions(seed: 1);
        options.Method = method;
        options.RelinearizationInterval = 1; // re-linearise within the tiny run's few steps
        mlContext.Regression.Trainers.Kare(options).Fit(data); // warm-up: one-time tensors (generators, caches) exist now
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = liveTensors();
        mlContext.Regression.Trainers.Kare(options).Fit(data);
        long after = liveTensors();
        Assert.AreEqual(before, after, $"{method}: {after - before} tensors left alive by a fit");
    }

    public static IEnumerable<object[]> AllMethods => Enum.GetValues<KareMethod>().Select(method => new object[] { method });

    /// <summary>
    /// The binary and multiclass KARE trainers (which add calibration and the softmax temperature), the infinite-width NTK
    /// and the mean-field trainers dispose every tensor they create, as the regression methods do.
    /// </summary>
    [TestMethod]
    [TestCategory("Reliability")]
    public void OtherTrainersDisposeEveryTensor()
    {
        Func<long> liveTensors = LiveTensorCounter() ?? throw new AssertInconclusiveException("TorchSharp exposes no Tensor.TotalCount.");
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(ReliabilityFixtures.RegressionRows(60, seed: 1));
        IDataView binary = mlContext.Data.LoadFromEnumerable(BinaryClassificationTests.BlobRow.Generate(60, seed: 3));
        IDataView multiclass = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassClassificationTests.BlobRow.Species))
            .Fit(mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(60, seed: 3)))
            .Transform(mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(60, seed: 3)));
        var fits = new (string Name, Action Fit)[]
        {
            ("binary KARE", () => mlContext.BinaryClassification.Trainers.Kare(BinaryClassificationTests.FastOptions()).Fit(binary)),
            ("multiclass KARE", () => mlContext.MulticlassClassification.Trainers.Kare(MulticlassClassificationTests.FastOptions()).Fit(multiclass)),
            ("infinite-width NTK", () => mlContext.Regression.Trainers.InfiniteWidthNtk(new InfiniteWidthNtkRegressionTrainer.Options()).Fit(data)),
            ("mean-field", () => mlContext.Regression.Trainers.MeanFieldTwoTimescale(
                new MeanFieldRegressionTrainer.Options { NumberOfParticles = 50, NumberOfSteps = 20, Seed = 1 }).Fit(data)),
        };
        foreach (var (name, fit) in fits)
        {
            fit();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = liveTensors();
            fit();
            long after = liveTensors();
            Assert.AreEqual(before, after, $"{name}: {after - before} tensors left alive by a fit");
        }
    }

    private static void RunCycle(int cycle, ReliabilityFixtures.RegressionRow[] train, ReliabilityFixtures.RegressionRow[] probe)
    {
        var mlContext = new MLContext(seed: cycle);
        var model = mlContext.Regression.Trainers.Kare(ReliabilityFixtures.TinyRegressionOptions(seed: cycle)).Fit(mlContext.Data.LoadFromEnumerable(train));
        byte[] bytes = ReliabilityFixtures.SaveToBytes<ReliabilityFixtures.RegressionRow>(mlContext, model);
        ITransformer loaded = ReliabilityFixtures.LoadFromBytes(mlContext, bytes);
        using var engine = mlContext.Model.CreatePredictionEngine<ReliabilityFixtures.RegressionRow, ReliabilityFixtures.RegressionPrediction>(loaded);
        foreach (ReliabilityFixtures.RegressionRow row in probe)
        {
            if (!float.IsFinite(engine.Predict(row).Score))
                throw new AssertFailedException($"cycle {cycle}: non-finite prediction");
        }
        (loaded as IDisposable)?.Dispose();
        (model as IDisposable)?.Dispose();
    }

    /// <summary>TorchSharp's count of live tensors, when this version exposes one (found by name, logged either way).</summary>
    private Func<long>? LiveTensorCounter()
    {
        Type tensor = typeof(TorchSharp.torch.Tensor);
        PropertyInfo? total = tensor.GetProperty("TotalCount", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
        TestContext.WriteLine(total is null ? "TorchSharp exposes no Tensor.TotalCount: tensor counts not measured." : "Counting live tensors with Tensor.TotalCount.");
        return total is null ? null : () => Convert.ToInt64(total.GetValue(null));
    }

    /// <summary>VmRSS of this process from /proc/self/status, in bytes (the working set where /proc is missing).</summary>
    private static double ResidentBytes()
    {
        const string path = "/proc/self/status";
        if (File.Exists(path))
        {
            string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            if (line is not null)
                return 1024.0 * long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return System.Diagnostics.Process.GetCurrentProcess().WorkingSet64;
    }

    /// <summary>Least-squares slope of the values against their index (growth per cycle).</summary>
    private static double Slope(IReadOnlyList<double> values)
    {
        double meanX = (values.Count - 1) / 2.0, meanY = values.Average();
        double numerator = 0, denominator = 0;
        for (int i = 0; i < values.Count; i++)
        {
            numerator += (i - meanX) * (values[i] - meanY);
            denominator += (i - meanX) * (i - meanX);
        }
        return numerator / denominator;
    }
}
