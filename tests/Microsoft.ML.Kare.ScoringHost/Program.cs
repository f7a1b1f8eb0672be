using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;

namespace Microsoft.ML.Kare.ScoringHost;

/// <summary>
/// Loads a model zip, scores the rows of a text file (one row per line, comma-separated feature values) through the
/// loaded transformer, cast to the type its task's trainer returns, and prints:
/// <code>
/// model: &lt;type of the loaded transformer&gt;
/// score: &lt;score of row 1, round-trip precision; multiclass: the class scores separated by ';'&gt;
/// probability: &lt;probability of row 1 (binary only)&gt;
/// ...
/// libtorch: &lt;comma-separated native libraries of libtorch/LibTorchSharp mapped into the process, or none&gt;
/// </code>
/// Usage: <c>dotnet Microsoft.ML.Kare.ScoringHost.dll &lt;model.zip&gt; &lt;rows.csv&gt; [regression|binary|multiclass]</c>
/// (regression by default).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string task = args.Length == 3 ? args[2] : "regression";
        if (args.Length is < 2 or > 3 || task is not ("regression" or "binary" or "multiclass"))
        {
            Console.Error.WriteLine("Usage: Microsoft.ML.Kare.ScoringHost <model.zip> <rows.csv> [regression|binary|multiclass]");
            return 2;
        }

        float[][] rows = File.ReadAllLines(args[1])
            .Where(line => line.Length > 0)
            .Select(line => line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
        if (rows.Length == 0)
        {
            Console.Error.WriteLine("No rows to score.");
            return 2;
        }

        var mlContext = new MLContext(seed: 1);
        ITransformer loaded = mlContext.Model.Load(args[0], out _);
        Console.WriteLine($"model: {loaded.GetType().FullName}");

        SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        IDataView data = mlContext.Data.LoadFromEnumerable(rows.Select(r => new Row { Features = r }), schema);

        // The typed cast a user of a built-in trainer would write.
        switch (task)
        {
            case "regression":
            {
                var transformer = (RegressionPredictionTransformer<KareRegressionModelParameters>)loaded;
                foreach (float score in transformer.Transform(data).GetColumn<float>("Score"))
                    Console.WriteLine($"score: {Format(score)}");
                break;
            }
            case "binary":
            {
                var transformer = (BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>)loaded;
                IDataView scored = transformer.Transform(data);
                float[] probabilities = scored.GetColumn<float>("Probability").ToArray();
                int i = 0;
                foreach (float score in scored.GetColumn<float>("Score"))
                {
                    Console.WriteLine($"score: {Format(score)}");
                    Console.WriteLine($"probability: {Format(probabilities[i++])}");
                }
                break;
            }
            default:
            {
                var transformer = (MulticlassPredictionTransformer<KareMulticlassModelParameters>)loaded;
                foreach (float[] scores in transformer.Transform(data).GetColumn<float[]>("Score"))
                    Console.WriteLine($"score: {string.Join(";", scores.Select(Format))}");
                break;
            }
        }

        Console.WriteLine($"libtorch: {string.Join(",", LoadedTorchLibraries().DefaultIfEmpty("none"))}");
        return 0;
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Native libraries of libtorch or TorchSharp mapped into this process (from /proc/self/maps).</summary>
    private static IEnumerable<string> LoadedTorchLibraries()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
            return new[] { "unknown" };
        return File.ReadAllLines(maps)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6)
            .Select(fields => Path.GetFileName(fields[^1]))
            .Where(name => name.Contains("torch", StringComparison.OrdinalIgnoreCase)
                && name.Contains(".so", StringComparison.Ordinal))
            .Distinct()
            .ToArray();
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
