using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Microsoft.ML.Kare.Examples;

/// <summary>
/// Where the examples find their data and keep their model. Each example project copies its CSV from
/// <c>examples/data/</c> into <c>data/</c> of its output folder, and records at build time the folder the model lives
/// in (the training project's own folder) as assembly metadata, so that <c>dotnet run --project</c> from any working
/// directory writes and reads the same <c>MLModel.zip</c>.
/// </summary>
public static class ExamplePaths
{
    /// <summary>Path of a data file shipped with the examples (<c>examples/data/</c>, copied to <c>data/</c> of the output).</summary>
    public static string DataFile(string fileName)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "data", fileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The example's data file was not copied to the output folder: {path}", path);
        return path;
    }

    /// <summary>
    /// The folder of the training project (recorded by the build as the <c>KareExampleModelDirectory</c> assembly
    /// metadata), or the folder of the executable when the metadata is missing.
    /// </summary>
    public static string ModelDirectory
    {
        get
        {
            string? recorded = Assembly.GetEntryAssembly()?
                .GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "KareExampleModelDirectory")?.Value;
            return string.IsNullOrEmpty(recorded) ? AppContext.BaseDirectory : Path.GetFullPath(recorded);
        }
    }

    /// <summary>The path given as the first command-line argument, else <c>MLModel.zip</c> in <see cref="ModelDirectory"/>.</summary>
    public static string ModelPath(string[] args) =>
        Path.GetFullPath(args.Length > 0 && !args[0].StartsWith('-') ? args[0] : Path.Combine(ModelDirectory, "MLModel.zip"));

    /// <summary>The folder the training example writes its plots to (<c>plots/</c> beside the model), created if needed.</summary>
    public static string PlotDirectory(string modelPath)
    {
        string directory = Path.Combine(Path.GetDirectoryName(modelPath)!, "plots");
        Directory.CreateDirectory(directory);
        return directory;
    }
}
