using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// Fit results on disk, one small JSON file per run name, data set and split (<c>RUN/NAME.SPLIT.json</c>), so that a long
/// suite run resumes where it stopped and later runs can be compared with earlier ones. A run name is bound to one option
/// set: reusing it with other options is refused rather than mixing results.
/// </summary>
internal sealed class SuiteResultStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public SuiteResultStore(string folder) => Folder = folder;

    public string Folder { get; }

    /// <summary>The cached result, or null.</summary>
    public SuiteFitResult? Find(string run, string dataSet, int split, string options)
    {
        string path = PathOf(run, dataSet, split);
        if (!File.Exists(path))
            return null;
        SuiteFitResult result = JsonSerializer.Deserialize<SuiteFitResult>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path} holds no result.");
        if (result.Options != options)
            throw new InvalidOperationException($"The run '{run}' was made with the options '{result.Options}', not '{options}' ({path}). Choose another --name.");
        return result;
    }

    public void Save(string run, SuiteFitResult result)
    {
        string path = PathOf(run, result.DataSet, result.Split);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(result, Json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Every cached result of a run.</summary>
    public IReadOnlyList<SuiteFitResult> All(string run)
    {
        string folder = Path.Combine(Folder, run);
        if (!Directory.Exists(folder))
            return Array.Empty<SuiteFitResult>();
        return Directory.EnumerateFiles(folder, "*.json")
            .Select(p => JsonSerializer.Deserialize<SuiteFitResult>(File.ReadAllText(p), Json)!)
            .OrderBy(r => r.DataSet, StringComparer.Ordinal).ThenBy(r => r.Split)
            .ToList();
    }

    /// <summary>The runs stored so far.</summary>
    public IReadOnlyList<string> Runs()
        => Directory.Exists(Folder) ? Directory.EnumerateDirectories(Folder).Select(Path.GetFileName).OfType<string>().OrderBy(n => n, StringComparer.Ordinal).ToList() : Array.Empty<string>();

    private string PathOf(string run, string dataSet, int split)
    {
        if (run.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || run is "." or "..")
            throw new ArgumentException($"The run name '{run}' cannot be a folder name.");
        return Path.Combine(Folder, run, string.Create(CultureInfo.InvariantCulture, $"{dataSet}.{split}.json"));
    }
}
