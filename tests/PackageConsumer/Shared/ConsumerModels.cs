using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Kare.PackageConsumer;

/// <summary>The three tasks the consumers train and score, in the order they run.</summary>
public static class ConsumerTasks
{
    public const string Regression = "regression";
    public const string Binary = "binary";
    public const string Multiclass = "multiclass";

    public static readonly string[] All = { Regression, Binary, Multiclass };
}

/// <summary>The input row of every model: a feature vector of <see cref="Size"/> values.</summary>
public sealed class FeatureRow
{
    public const int Size = 4;

    [VectorType(Size)]
    public float[] Features { get; set; } = new float[Size];
}

public sealed class RegressionPrediction
{
    public float Score { get; set; }
}

public sealed class BinaryPrediction
{
    public float Score { get; set; }

    public float Probability { get; set; }

    public bool PredictedLabel { get; set; }
}

public sealed class MulticlassPrediction
{
    public float[] Score { get; set; } = Array.Empty<float>();

    public uint PredictedLabel { get; set; }
}

/// <summary>
/// What both consumers share: where the files are, how a model's predictions are read (a PredictionEngine row by row
/// and Transform over all rows, each as one array of numbers per row), how they are written and compared, and what
/// the process has loaded.
/// </summary>
public static class ConsumerModels
{
    public static string ModelPath(string folder, string task) => Path.Combine(folder, task + ".zip");

    public static string ExpectedPath(string folder, string task) => Path.Combine(folder, task + ".expected.csv");

    public static string RowsPath(string folder) => Path.Combine(folder, "rows.csv");

    /// <summary>Predictions through a PredictionEngine, one row at a time: regression [score]; binary [score,
    /// probability, predicted label as 0/1]; multiclass [scores…, predicted key].</summary>
    public static float[][] PredictOneByOne(MLContext mlContext, ITransformer model, string task, IReadOnlyList<FeatureRow> rows)
    {
        switch (task)
        {
            case ConsumerTasks.Regression:
            {
                var engine = mlContext.Model.CreatePredictionEngine<FeatureRow, RegressionPrediction>(model);
                return rows.Select(row => new[] { engine.Predict(row).Score }).ToArray();
            }
            case ConsumerTasks.Binary:
            {
                var engine = mlContext.Model.CreatePredictionEngine<FeatureRow, BinaryPrediction>(model);
                return rows.Select(row =>
                {
                    BinaryPrediction p = engine.Predict(row);
                    return new[] { p.Score, p.Probability, p.PredictedLabel ? 1f : 0f };
                }).ToArray();
            }
            case ConsumerTasks.Multiclass:
            {
                var engine = mlContext.Model.CreatePredictionEngine<FeatureRow, MulticlassPrediction>(model);
                return rows.Select(row =>
                {
                    MulticlassPrediction p = engine.Predict(row);
                    return p.Score.Append((float)p.PredictedLabel).ToArray();
                }).ToArray();
            }
            default:
                throw new ArgumentException($"Unknown task {task}.", nameof(task));
        }
    }

    /// <summary>The same predictions as <see cref="PredictOneByOne"/>, through Transform over all rows at once.</summary>
    public static float[][] PredictBatch(MLContext mlContext, ITransformer model, string task, IReadOnlyList<FeatureRow> rows)
    {
        IDataView scored = model.Transform(mlContext.Data.LoadFromEnumerable(rows));
        switch (task)
        {
            case ConsumerTasks.Regression:
                return scored.GetColumn<float>("Score").Select(s => new[] { s }).ToArray();
            case ConsumerTasks.Binary:
            {
                float[] scores = scored.GetColumn<float>("Score").ToArray();
                float[] probabilities = scored.GetColumn<float>("Probability").ToArray();
                bool[] labels = scored.GetColumn<bool>("PredictedLabel").ToArray();
                return scores.Select((s, i) => new[] { s, probabilities[i], labels[i] ? 1f : 0f }).ToArray();
            }
            case ConsumerTasks.Multiclass:
            {
                float[][] scores = scored.GetColumn<float[]>("Score").ToArray();
                uint[] labels = scored.GetColumn<uint>("PredictedLabel").ToArray();
                return scores.Select((s, i) => s.Append((float)labels[i]).ToArray()).ToArray();
            }
            default:
                throw new ArgumentException($"Unknown task {task}.", nameof(task));
        }
    }

    public static void WriteRows(string path, IEnumerable<FeatureRow> rows) => WriteValues(path, rows.Select(r => r.Features));

    public static FeatureRow[] ReadRows(string path) => ReadValues(path).Select(v => new FeatureRow { Features = v }).ToArray();

    /// <summary>One line per row, the values separated by ';' at round-trip precision.</summary>
    public static void WriteValues(string path, IEnumerable<float[]> values)
        => File.WriteAllLines(path, values.Select(v => string.Join(";", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)))));

    public static float[][] ReadValues(string path)
        => File.ReadAllLines(path)
            .Where(line => line.Length > 0)
            .Select(line => line.Split(';').Select(x => float.Parse(x, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();

    /// <summary>
    /// The largest difference between two sets of predictions, relative to max(1, |expected|); infinity when their
    /// shapes differ or a value is NaN on one side only.
    /// </summary>
    public static double MaxDifference(float[][] expected, float[][] actual)
    {
        if (expected.Length != actual.Length)
            return double.PositiveInfinity;
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i].Length != actual[i].Length)
                return double.PositiveInfinity;
            for (int j = 0; j < expected[i].Length; j++)
            {
                float e = expected[i][j], a = actual[i][j];
                if (float.IsNaN(e) || float.IsNaN(a))
                {
                    if (float.IsNaN(e) != float.IsNaN(a))
                        return double.PositiveInfinity;
                    continue;
                }
                max = Math.Max(max, Math.Abs((double)e - a) / Math.Max(1.0, Math.Abs((double)e)));
            }
        }
        return max;
    }

    /// <summary>The ML.NET release in use (the informational version of Microsoft.ML.Data, without its commit).</summary>
    public static string MicrosoftMLVersion()
    {
        string? version = typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return version?.Split('+')[0] ?? "unknown";
    }

    /// <summary>Files of native libraries whose name contains "torch" mapped into this process (from /proc/self/maps).</summary>
    public static string[] MappedTorchLibraries()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
            return new[] { "unknown" };
        return File.ReadAllLines(maps)
            .Select(line => line.IndexOf('/') is int slash and >= 0 ? line[slash..].Trim() : "")
            .Where(path => path.Length > 0 && Path.GetFileName(path).Contains("torch", StringComparison.OrdinalIgnoreCase))
            .Distinct()
            .ToArray();
    }

    /// <summary>Assemblies loaded in this process whose name contains "Torch".</summary>
    public static string[] LoadedTorchAssemblies()
        => AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetName().Name ?? "")
            .Where(name => name.Contains("Torch", StringComparison.OrdinalIgnoreCase))
            .ToArray();
}
