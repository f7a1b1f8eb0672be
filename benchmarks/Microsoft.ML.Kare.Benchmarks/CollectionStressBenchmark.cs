using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// Cross-validated KARE fits (30 epochs), the fold networks side by side, while another thread collects garbage without
/// pause (<see cref="ContinuousGarbageCollection"/>): every fit must finish and give the same model as without the
/// collector (a freed native object read by libtorch shows up as an exception or a different score). Prints fits,
/// failures and differing models. Usage:
/// <c>--collection-stress [--fits 40] [--rows 300] [--folds 5]</c>.
/// </summary>
internal static class CollectionStressBenchmark
{
    private sealed class Row
    {
        public float Label { get; set; }

        [VectorType(10)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public static int Run(string[] args)
    {
        int fits = int.Parse(CommandLine.Value(args, "--fits") ?? "40", CultureInfo.InvariantCulture);
        int rows = int.Parse(CommandLine.Value(args, "--rows") ?? "300", CultureInfo.InvariantCulture);
        int folds = int.Parse(CommandLine.Value(args, "--folds") ?? "5", CultureInfo.InvariantCulture);
        var mlContext = new MLContext(seed: 0);
        var random = new Random(7);
        var data = Enumerable.Range(0, rows).Select(_ =>
        {
            float[] x = Enumerable.Range(0, 10).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            return new Row { Features = x, Label = (float)(Math.Cos(x.Sum()) + 0.1 * random.NextDouble()) };
        }).ToList();
        IDataView view = mlContext.Data.LoadFromEnumerable(data);
        var options = new KareRegressionTrainer.Options { NumberOfFolds = folds, NumberOfEpochs = 30, Seed = 1 };
        float[] Scores() => mlContext.Regression.Trainers.Kare(options).Fit(view).Transform(view).GetColumn<float>("Score").ToArray();
        float[] reference = Scores();

        int failures = 0, different = 0;
        string? first = null;
        var clock = Stopwatch.StartNew();
        using (new ContinuousGarbageCollection())
        {
            for (int i = 0; i < fits; i++)
            {
                try
                {
                    if (!Scores().SequenceEqual(reference))
                        different++;
                }
                catch (Exception e)
                {
                    failures++;
                    first ??= e.GetBaseException().Message.Split('\n')[0];
                }
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{fits} fits of {rows} rows, {folds} folds side by side, under continuous collection ({clock.Elapsed.TotalSeconds:F0} s): {failures} failed, {different} gave a different model{(first is null ? "" : "; first failure: " + first)}"));
        return failures + different == 0 ? 0 : 1;
    }
}
