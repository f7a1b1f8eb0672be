using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// A model saved by this process loads and scores in another one (tests/Microsoft.ML.Kare.ScoringHost), the way a
/// serving application uses it: typed, with identical scores, and without loading libtorch.
/// </summary>
[TestClass]
public sealed class FreshProcessScoringTests
{
    private const int InputCount = 5;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void SavedModelScoresIdenticallyInAFreshProcessWithoutLibtorch()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionModelParameters model = KareTestModels.CreateModel(mlContext, InputCount, new[] { 7, 6, 5 }, KareActivation.Gelu, seed: 21);
        var transformer = KareTestModels.CreateTransformer(mlContext, model);
        float[][] rows = KareTestModels.RandomRows(40, InputCount, seed: 8);
        float[] expected = KareTestModels.Score(mlContext, transformer, rows, InputCount);

        string directory = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"fresh-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        string modelPath = Path.Combine(directory, "MLModel.zip");
        string rowsPath = Path.Combine(directory, "rows.csv");
        mlContext.Model.Save(transformer, KareTestModels.CreateFeatureData(mlContext, rows, InputCount).Schema, modelPath);
        File.WriteAllLines(rowsPath, rows.Select(r => string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));

        string[] output = RunScoringHost(modelPath, rowsPath);

        Assert.AreEqual($"model: {typeof(RegressionPredictionTransformer<KareRegressionModelParameters>).FullName}", output[0]);
        float[] actual = output.Where(line => line.StartsWith("score: ", StringComparison.Ordinal))
            .Select(line => float.Parse(line["score: ".Length..], CultureInfo.InvariantCulture))
            .ToArray();
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-6f * Math.Max(1f, Math.Abs(expected[i])), $"row {i}");
        Assert.AreEqual("libtorch: none", output[^1], "Scoring a loaded KARE model must not load libtorch.");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void SavedBinaryModelScoresIdenticallyInAFreshProcessWithoutLibtorch()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = mlContext.Data.LoadFromEnumerable(BinaryClassificationTests.BlobRow.Generate(80, seed: 1));
        var transformer = mlContext.BinaryClassification.Trainers.Kare(BinaryClassificationTests.FastOptions()).Fit(train);
        float[][] rows = BinaryClassificationTests.BlobRow.Generate(30, seed: 2).Select(r => r.Features).ToArray();
        IDataView scored = transformer.Transform(KareTestModels.CreateFeatureData(mlContext, rows, BinaryClassificationTests.BlobRow.Size));
        float[] expectedScores = scored.GetColumn<float>("Score").ToArray();
        float[] expectedProbabilities = scored.GetColumn<float>("Probability").ToArray();

        string[] output = SaveAndScore(mlContext, transformer, train.Schema, rows, "binary");

        Assert.AreEqual($"model: {transformer.GetType().FullName}", output[0]);
        AssertClose(expectedScores, Values(output, "score: "));
        AssertClose(expectedProbabilities, Values(output, "probability: "));
        Assert.AreEqual("libtorch: none", output[^1], "Scoring a loaded KARE model must not load libtorch.");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void SavedMulticlassModelScoresIdenticallyInAFreshProcessWithoutLibtorch()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(MulticlassClassificationTests.BlobRow.Species))
            .Fit(mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(90, seed: 1)))
            .Transform(mlContext.Data.LoadFromEnumerable(MulticlassClassificationTests.BlobRow.Generate(90, seed: 1)));
        var transformer = mlContext.MulticlassClassification.Trainers.Kare(MulticlassClassificationTests.FastOptions()).Fit(train);
        float[][] rows = MulticlassClassificationTests.BlobRow.Generate(30, seed: 2).Select(r => r.Features).ToArray();
        float[][] expected = transformer.Transform(KareTestModels.CreateFeatureData(mlContext, rows, MulticlassClassificationTests.BlobRow.Size))
            .GetColumn<float[]>("Score").ToArray();

        string[] output = SaveAndScore(mlContext, transformer, train.Schema, rows, "multiclass");

        Assert.AreEqual($"model: {transformer.GetType().FullName}", output[0]);
        float[][] actual = output.Where(line => line.StartsWith("score: ", StringComparison.Ordinal))
            .Select(line => line["score: ".Length..].Split(';').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], actual[i]);
        Assert.AreEqual("libtorch: none", output[^1], "Scoring a loaded KARE model must not load libtorch.");
    }

    private string[] SaveAndScore(MLContext mlContext, ITransformer transformer, DataViewSchema schema, float[][] rows, string task)
    {
        string directory = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), $"fresh-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        string modelPath = Path.Combine(directory, "MLModel.zip");
        string rowsPath = Path.Combine(directory, "rows.csv");
        mlContext.Model.Save(transformer, schema, modelPath);
        File.WriteAllLines(rowsPath, rows.Select(r => string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        return RunScoringHost(modelPath, rowsPath, task);
    }

    private static float[] Values(string[] output, string prefix)
        => output.Where(line => line.StartsWith(prefix, StringComparison.Ordinal))
            .Select(line => float.Parse(line[prefix.Length..], CultureInfo.InvariantCulture))
            .ToArray();

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-6f * Math.Max(1f, Math.Abs(expected[i])), $"value {i}");
    }

    private string[] RunScoringHost(string modelPath, string rowsPath, string? task = null)
    {
        string host = typeof(FreshProcessScoringTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "KareScoringHostPath").Value!;
        Assert.IsTrue(File.Exists(host), $"The scoring host was not built: {host}");

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(host);
        start.ArgumentList.Add(modelPath);
        start.ArgumentList.Add(rowsPath);
        if (task is not null)
            start.ArgumentList.Add(task);
        using Process process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        TestContext.WriteLine(output);
        TestContext.WriteLine(error.Result);
        Assert.AreEqual(0, process.ExitCode, $"The scoring host failed:{Environment.NewLine}{error.Result}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The dotnet host running the tests (or the one on PATH).</summary>
    private static string DotnetHost()
    {
        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
            return fromSdk;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet")
            return process;
        return "dotnet";
    }
}
