using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Tests.Trainers;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>Small trained KARE models, their data, and the output rows the reliability tests share.</summary>
internal static class ReliabilityFixtures
{
    public const int FeatureCount = 5;

    /// <summary>
    /// The settings of the leak test: 60 rows, one hidden layer of width 8, 2 epochs (a fit takes well under a second),
    /// and one network chosen on a hold-out (the hostile-file tests rewrite files into older, one-network layouts).
    /// </summary>
    public static KareRegressionTrainer.Options TinyRegressionOptions(int? seed = 3) => new()
    {
        HiddenLayerWidths = new[] { 8 },
        NumberOfEpochs = 2,
        RidgeSelection = KareRidgeSelection.HoldOut,
        Seed = seed,
    };

    /// <summary>y = sin(x₀) + x₁·x₂ − 0.5·x₃ + noise, x ~ U(−2, 2)⁵.</summary>
    public static RegressionRow[] RegressionRows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new RegressionRow[count];
        for (int i = 0; i < count; i++)
        {
            float[] x = Enumerable.Range(0, FeatureCount).Select(_ => (float)(4 * random.NextDouble() - 2)).ToArray();
            float y = (float)(Math.Sin(x[0]) + x[1] * x[2] - 0.5 * x[3] + 0.1 * StandardNormal.Draw(random));
            rows[i] = new RegressionRow { Label = y, Features = x };
        }
        return rows;
    }

    public static RegressionPredictionTransformer<KareRegressionModelParameters> TrainRegression(MLContext mlContext, KareRegressionTrainer.Options options, int rows = 60, int dataSeed = 1)
        => mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(RegressionRows(rows, dataSeed)));

    /// <summary>Saves a model to bytes (ML.NET's zip), with the schema of <typeparamref name="TRow"/>.</summary>
    public static byte[] SaveToBytes<TRow>(MLContext mlContext, ITransformer model) where TRow : class
    {
        using var stream = new MemoryStream();
        mlContext.Model.Save(model, SchemaOf<TRow>(mlContext), stream);
        return stream.ToArray();
    }

    public static ITransformer LoadFromBytes(MLContext mlContext, byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return mlContext.Model.Load(stream, out _);
    }

    public static DataViewSchema SchemaOf<TRow>(MLContext mlContext) where TRow : class
        => mlContext.Data.LoadFromEnumerable(Array.Empty<TRow>()).Schema;

    /// <summary>A folder of its own for one test's files, removed by the caller.</summary>
    public static string CreateScratchFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "kare-reliability-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static bool BitIdentical(IReadOnlyList<float> expected, IReadOnlyList<float> actual, out string difference)
    {
        difference = "";
        if (expected.Count != actual.Count)
        {
            difference = $"{actual.Count} values instead of {expected.Count}";
            return false;
        }
        for (int i = 0; i < expected.Count; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                difference = $"value {i}: {actual[i]:R} instead of {expected[i]:R}";
                return false;
            }
        }
        return true;
    }

    public sealed class RegressionRow
    {
        public float Label { get; set; }

        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class RegressionPrediction
    {
        public float Score { get; set; }
    }
}
