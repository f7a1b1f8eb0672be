using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;

namespace Microsoft.ML.Kare.ScoringHost;

/// <summary>
/// Loads a model zip, scores the rows of a text file (one row per line, comma-separated feature values) through the
/// loaded transformer, and prints:
/// <code>
/// model: &lt;type of the loaded transformer&gt;
/// score: &lt;score of row 1, round-trip precision&gt;
/// ...
/// libtorch: &lt;comma-separated native libraries of libtorch/LibTorchSharp mapped into the process, or none&gt;
/// </code>
/// Usage: <c>dotnet Microsoft.ML.Kare.ScoringHost.dll &lt;model.zip&gt; &lt;rows.csv&gt;</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("Usage: Microsoft.ML.Kare.ScoringHost <model.zip> <rows.csv>");
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

        // The typed cast a user of a built-in trainer would write.
        var transformer = (RegressionPredictionTransformer<KareRegressionModelParameters>)loaded;

        SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        IDataView data = mlContext.Data.LoadFromEnumerable(rows.Select(r => new Row { Features = r }), schema);
        IDataView scored = transformer.Transform(data);
        foreach (float score in scored.GetColumn<float>("Score"))
            Console.WriteLine($"score: {score.ToString("R", CultureInfo.InvariantCulture)}");

        Console.WriteLine($"libtorch: {string.Join(",", LoadedTorchLibraries().DefaultIfEmpty("none"))}");
        return 0;
    }

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
