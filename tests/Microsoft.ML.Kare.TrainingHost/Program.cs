using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;

namespace Microsoft.ML.Kare.TrainingHost;

/// <summary>
/// Trains a small KARE regression model in a fresh process and prints:
/// <code>
/// libLibTorchSharp: &lt;the libLibTorchSharp.so files mapped into the process, comma-separated, or none&gt;
/// score: &lt;the trained model's score of the first row&gt;
/// </code>
/// or, when training fails, the exception (exit code 1). Usage: <c>dotnet Microsoft.ML.Kare.TrainingHost.dll</c>.
/// </summary>
public static class Program
{
    public static int Main()
    {
        try
        {
            var mlContext = new MLContext(seed: 0);
            var random = new Random(1);
            Row[] rows = Enumerable.Range(0, 60).Select(_ =>
            {
                float[] x = { (float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble() };
                return new Row { Features = x, Label = x[0] - 2 * x[1] * x[2] };
            }).ToArray();
            IDataView data = mlContext.Data.LoadFromEnumerable(rows);
            var model = mlContext.Regression.Trainers.Kare(new KareRegressionTrainer.Options
            {
                HiddenLayerWidths = new[] { 8 },
                NumberOfEpochs = 2,
                RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            }).Fit(data);
            float score = model.Transform(data).GetColumn<float>("Score").First();
            Console.WriteLine($"libLibTorchSharp: {string.Join(",", MappedLibTorchSharp().DefaultIfEmpty("none"))}");
            Console.WriteLine($"score: {score}");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine($"failed: {e}");
            return 1;
        }
    }

    private static string[] MappedLibTorchSharp()
        => File.ReadAllLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is int slash and >= 0 ? line[slash..].Trim() : "")
            .Where(path => Path.GetFileName(path) == "libLibTorchSharp.so")
            .Distinct()
            .ToArray();

    private sealed class Row
    {
        [VectorType(3)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Label { get; set; }
    }
}
