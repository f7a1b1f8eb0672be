using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// Large-n training: the diamonds data set (53,940 rows; cut, color and clarity one-hot encoded, log price),
/// an 80/20 split, KARE with default options next to FastTree, LightGBM and SDCA in the same pipeline and
/// run; prints test R², fit seconds and the process's peak resident memory after each fit.
/// Usage: --diamonds [--rows n] [--seed s] [--kare-only | --baselines-only] [--probes m (0: exact gradient)] [--patience epochs (0: off)].
/// </summary>
internal static class DiamondsBenchmark
{
    private sealed class Diamond
    {
        [LoadColumn(0)] public float Carat { get; set; }
        [LoadColumn(1)] public string Cut { get; set; } = "";
        [LoadColumn(2)] public string Color { get; set; } = "";
        [LoadColumn(3)] public string Clarity { get; set; } = "";
        [LoadColumn(4)] public float Depth { get; set; }
        [LoadColumn(5)] public float Table { get; set; }
        [LoadColumn(6)] public float Price { get; set; }
        [LoadColumn(7)] public float X { get; set; }
        [LoadColumn(8)] public float Y { get; set; }
        [LoadColumn(9)] public float Z { get; set; }
    }

    public static int Run(string[] args)
    {
        int rows = (int)Argument(args, "--rows", 0);
        int seed = (int)Argument(args, "--seed", 0);
        bool kareOnly = args.Contains("--kare-only");
        string path = Path.Combine(AppContext.BaseDirectory, "data", "diamonds.csv");
        var mlContext = new MLContext(seed: seed);
        IDataView data = mlContext.Data.LoadFromTextFile<Diamond>(path, separatorChar: ',', hasHeader: true, allowQuoting: true);
        if (rows > 0)
            data = mlContext.Data.TakeRows(mlContext.Data.ShuffleRows(data, seed: seed), rows);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: seed);
        var featurize = mlContext.Transforms.CustomMapping<Diamond, LogPrice>((input, output) => output.Label = MathF.Log(input.Price), contractName: null)
            .Append(mlContext.Transforms.Categorical.OneHotEncoding(new[]
            {
                new InputOutputColumnPair("CutEncoded", nameof(Diamond.Cut)),
                new InputOutputColumnPair("ColorEncoded", nameof(Diamond.Color)),
                new InputOutputColumnPair("ClarityEncoded", nameof(Diamond.Clarity)),
            }))
            .Append(mlContext.Transforms.Concatenate("Features", nameof(Diamond.Carat), nameof(Diamond.Depth), nameof(Diamond.Table),
                nameof(Diamond.X), nameof(Diamond.Y), nameof(Diamond.Z), "CutEncoded", "ColorEncoded", "ClarityEncoded"))
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"))
            .AppendCacheCheckpoint(mlContext);
        long trainRows = split.TrainSet.GetRowCount() ?? split.TrainSet.GetColumn<float>(nameof(Diamond.Price)).LongCount();
        Console.WriteLine($"diamonds: {trainRows} training rows, log price, one-hot cut/color/clarity, {Environment.ProcessorCount} cores");
        Console.WriteLine("| trainer | test R² | fit (s) | peak resident memory (MB) |");
        Console.WriteLine("|---|---|---|---|");
        var kareOptions = new KareRegressionTrainer.Options();
        if (args.Contains("--probes"))
            kareOptions.StochasticGradientProbes = (int)Argument(args, "--probes", 0);
        if (args.Contains("--patience"))
            kareOptions.EarlyStoppingPatience = (int)Argument(args, "--patience", 0);
        var stopwatch = new Stopwatch();
        kareOptions.Progress = new Progress(summary =>
        {
            if (summary.Epoch % 10 == 0)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  KARE epoch {summary.Epoch}: ρ {summary.Kare:F4}, held-out MSE {summary.ValidationError:F4}, {stopwatch.Elapsed.TotalSeconds:F0} s"));
        });
        if (!args.Contains("--baselines-only"))
            Measure(args.Contains("--probes") || args.Contains("--patience") ? "KARE (" + string.Join(" ", args) + ")" : "KARE (defaults)", featurize.Append(mlContext.Regression.Trainers.Kare(kareOptions)), split, mlContext, stopwatch);
        if (!kareOnly)
        {
            Measure("FastTree", featurize.Append(mlContext.Regression.Trainers.FastTree()), split, mlContext, new Stopwatch());
            Measure("LightGBM", featurize.Append(mlContext.Regression.Trainers.LightGbm()), split, mlContext, new Stopwatch());
            Measure("SDCA", featurize.Append(mlContext.Regression.Trainers.Sdca()), split, mlContext, new Stopwatch());
        }
        return 0;
    }

    private static void Measure(string name, IEstimator<ITransformer> pipeline, DataOperationsCatalog.TrainTestData split, MLContext mlContext, Stopwatch stopwatch)
    {
        stopwatch.Restart();
        ITransformer model = pipeline.Fit(split.TrainSet);
        double seconds = stopwatch.Elapsed.TotalSeconds;
        RegressionMetrics metrics = mlContext.Regression.Evaluate(model.Transform(split.TestSet));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {metrics.RSquared:F4} | {seconds:F0} | {ResourceUse.PeakResidentMegabytes():F0} |"));
    }

    private static double Argument(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed class LogPrice
    {
        public float Label { get; set; }
    }

    private sealed class Progress(Action<KareEpochSummary> report) : IProgress<KareEpochSummary>
    {
        public void Report(KareEpochSummary value) => report(value);
    }
}
