using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Kare.Tests.Trainers.KareRegressionTrainerPipelineTests;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>MLContext.GpuDeviceId and FallbackToCpu, with the CPU build of libtorch the package ships.</summary>
[TestClass]
public sealed class DeviceSelectionTests
{
    private static readonly KareRegressionTrainer.Options Small = new() { HiddenLayerWidths = new[] { 8 }, NumberOfEpochs = 1, Seed = 1 };

    [TestMethod]
    public void GpuRequestFallsBackToCpuWithAWarning()
    {
        var mlContext = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = true };
        var warnings = new List<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Kind == Runtime.ChannelMessageKind.Warning)
                warnings.Add(e.RawMessage);
        };
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(60, seed: 1));
        var model = mlContext.Regression.Trainers.Kare(Small).Fit(data);
        Assert.IsNotNull(model.Model);
        Assert.IsTrue(warnings.Any(w => w.Contains("GpuDeviceId is 0", StringComparison.Ordinal) && w.Contains("CPU", StringComparison.Ordinal)),
            "the fallback is logged");
    }

    [TestMethod]
    public void GpuRequestWithoutFallbackFailsClearly()
    {
        var mlContext = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = false };
        IDataView data = mlContext.Data.LoadFromEnumerable(VectorRow.Generate(60, seed: 1));
        var error = Assert.Throws<InvalidOperationException>(() => mlContext.Regression.Trainers.Kare(Small).Fit(data));
        StringAssert.Contains(error.Message, "FallbackToCpu");
    }
}
