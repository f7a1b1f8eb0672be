using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Kare.Examples;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// Fit cost with default options: KARE next to LightGBM and FastTree fitted in the same run, on (a) the KARE paper's
/// simulation at several training sizes and feature counts (regression; binary: label above its median; multiclass:
/// its tertiles), (b) data sets of a suite folder (by default the public suite's four largest, split 1) and (c) diamonds
/// (one-hot cut, color and clarity, log price, a seeded 80/20 split). Prints fit seconds, the ratio to LightGBM, the test
/// metric, the path KARE chose, the epochs it ran and the peak resident memory of each fit.
/// </summary>
/// <remarks>
/// Usage: <c>--fit-time [--sizes 1000,5000,20000] [--dims 10,50] [--tasks regression,binary,multiclass] [--seeds 7]
/// [--suite-sets ames,spam,dna,hpc] [--no-simulation] [--no-suite] [--diamonds] [--kare-only] [--trace] [--option Name=Value]...
/// [--out FILE]</c>. Simulation test sets have a quarter as many rows as the training sets.
/// </remarks>
internal static class FitTimeBenchmark
{
    public static int Run(string[] args)
    {
        var options = KareOptionAssignments.Parse(CommandLine.Values(args, "--option"));
        bool kareOnly = args.Contains("--kare-only");
        SuiteFit.Trace = args.Contains("--trace");
        var rows = new List<string>();
        var dataSets = new List<SuiteDataSet>();
        if (!args.Contains("--no-simulation"))
        {
            foreach (int seed in Ints(CommandLine.Value(args, "--seeds") ?? DefaultSimulationSeed.ToString(CultureInfo.InvariantCulture)))
                foreach (int n in Ints(CommandLine.Value(args, "--sizes") ?? "1000,5000,20000"))
                    foreach (int d in Ints(CommandLine.Value(args, "--dims") ?? "10,50"))
                        foreach (SuiteTask task in Tasks(CommandLine.Value(args, "--tasks")))
                            dataSets.Add(Simulation(n, d, task, seed));
        }
        if (!args.Contains("--no-suite"))
        {
            string folder = Path.Combine(AppContext.BaseDirectory, "data", "suite");
            var catalog = SuiteDataSet.Catalog(folder);
            foreach (string name in (CommandLine.Value(args, "--suite-sets") ?? "ames,spam,dna,hpc").Split(',', StringSplitOptions.RemoveEmptyEntries))
                dataSets.Add(SuiteDataSet.Load(folder, name, catalog.Single(c => c.Name == name).Task));
        }
        if (args.Contains("--diamonds"))
            dataSets.Add(Diamonds());

        Console.WriteLine($"Fit time, KARE {options.Canonical} next to LightGBM and FastTree; {Environment.ProcessorCount} cores.");
        string header = "| data | task | training rows × features | KARE fit s | LightGBM s | FastTree s | KARE / LightGBM | KARE metric | LightGBM | FastTree | KARE epochs (kept) | peak MB | KARE path |";
        Console.WriteLine(header);
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (SuiteDataSet data in dataSets)
        {
            SuiteFitResult kare = SuiteFit.Kare(data, 1, "Kare", options, intervalBaseline: false);
            SuiteFitResult? lightGbm = kareOnly ? null : SuiteFit.MlNet(data, 1, "LightGbm");
            SuiteFitResult? fastTree = kareOnly ? null : SuiteFit.MlNet(data, 1, data.Task == SuiteTask.Multiclass ? "OneVersusAll(FastTree)" : "FastTree");
            string row = string.Create(CultureInfo.InvariantCulture,
                $"| {data.Name} | {data.Task} | {data.TrainingRowCount(1)} × {data.FeatureCount} | {kare.FitSeconds:F1} | {F(lightGbm?.FitSeconds)} | {F(fastTree?.FitSeconds)} | " +
                $"{(lightGbm is null ? "–" : (kare.FitSeconds / lightGbm.FitSeconds).ToString("F0", CultureInfo.InvariantCulture) + "×")} | {kare.Metric:F4} | {M(lightGbm)} | {M(fastTree)} | " +
                $"{kare.EpochsRun:F0} ({kare.SelectedEpoch:F0}) | {kare.PeakMegabytes:F0} | {kare.Path} |");
            Console.WriteLine(row);
            rows.Add(row);
        }
        if (CommandLine.Value(args, "--out") is string outPath)
            File.WriteAllLines(outPath, new[] { header, "|---|---|---|---|---|---|---|---|---|---|---|---|---|" }.Concat(rows));
        return 0;
    }

    /// <summary>The generator seed of the simulation data sets unless <c>--seeds</c> lists others.</summary>
    private const int DefaultSimulationSeed = 7;

    /// <summary>The paper's simulation (γ = 1, σ = 0.1) with n training and n/4 test rows, labelled for the task.</summary>
    private static SuiteDataSet Simulation(int trainingRows, int features, SuiteTask task, int seed)
    {
        int total = trainingRows + trainingRows / 4;
        var (x, y) = PaperSimulation.GenerateArrays(total, features, gamma: 1, sigma: 0.1, seed: seed);
        float[] sorted = y.OrderBy(v => v).ToArray();
        float median = sorted[total / 2], lower = sorted[total / 3], upper = sorted[2 * total / 3];
        float[] labels = task switch
        {
            SuiteTask.Regression => y,
            SuiteTask.Binary => y.Select(v => v > median ? 1f : 0f).ToArray(),
            _ => y.Select(v => v <= lower ? 0f : v <= upper ? 1f : 2f).ToArray(),
        };
        bool[] mask = Enumerable.Range(0, total).Select(i => i < trainingRows).ToArray();
        string name = seed == DefaultSimulationSeed ? $"simulation n={trainingRows} d={features}" : $"simulation n={trainingRows} d={features} seed {seed}";
        return SuiteDataSet.FromArrays(name, task, labels, x, new[] { mask });
    }

    /// <summary>Diamonds: carat, depth, table, x, y, z and one-hot cut, color, clarity; log price; 80/20 split (seed 0).</summary>
    private static SuiteDataSet Diamonds()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "diamonds.csv"));
        string[][] cells = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',').Select(c => c.Trim('"')).ToArray()).ToArray();
        string[][] levels = new[] { 1, 2, 3 }.Select(j => cells.Select(r => r[j]).Distinct().OrderBy(v => v, StringComparer.Ordinal).ToArray()).ToArray();
        int[] numeric = { 0, 4, 5, 7, 8, 9 };
        float[][] features = cells.Select(r => numeric.Select(j => float.Parse(r[j], CultureInfo.InvariantCulture))
            .Concat(levels.SelectMany((values, k) => values.Select(v => r[k + 1] == v ? 1f : 0f))).ToArray()).ToArray();
        float[] labels = cells.Select(r => MathF.Log(float.Parse(r[6], CultureInfo.InvariantCulture))).ToArray();
        var random = new Random(0);
        bool[] mask = labels.Select(_ => random.NextDouble() < 0.8).ToArray();
        return SuiteDataSet.FromArrays("diamonds", SuiteTask.Regression, labels, features, new[] { mask });
    }

    private static IEnumerable<SuiteTask> Tasks(string? list) => list is null
        ? Enum.GetValues<SuiteTask>()
        : list.Split(',').Select(t => Enum.Parse<SuiteTask>(t, ignoreCase: true));

    private static string F(double? seconds) => seconds is double s ? s.ToString("F2", CultureInfo.InvariantCulture) : "–";

    private static string M(SuiteFitResult? result) => result is null ? "–" : result.Metric.ToString("F4", CultureInfo.InvariantCulture);

    private static int[] Ints(string list) => list.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
