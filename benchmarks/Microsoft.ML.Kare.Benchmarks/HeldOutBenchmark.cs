using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Training;
using TorchSharp;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// One held-out measurement (the held-out error at every λ̃ of the default grid) in kernel space on a basis of fit rows
/// and in parameter space on all fit rows, same network and rows: median milliseconds of each (interleaved), and the
/// cost ratio the fitter's path choice predicts (<see cref="PathCosts"/>), so the cost model can be checked against the
/// machine. Usage: <c>--held-out [--fit 4096] [--validation 1024] [--bases 1024,2000] [--features 10] [--widths 64]
/// [--outputs 1] [--repeats 3]</c>.
/// </summary>
internal static class HeldOutBenchmark
{
    public static int Run(string[] args)
    {
        int fitRows = int.Parse(CommandLine.Value(args, "--fit") ?? "4096", CultureInfo.InvariantCulture);
        int validationRows = int.Parse(CommandLine.Value(args, "--validation") ?? "1024", CultureInfo.InvariantCulture);
        int[] bases = (CommandLine.List(args, "--bases") ?? new[] { "1024", "2000" }).Select(int.Parse).ToArray();
        int features = int.Parse(CommandLine.Value(args, "--features") ?? "10", CultureInfo.InvariantCulture);
        int[] widths = (CommandLine.List(args, "--widths") ?? new[] { "64" }).Select(int.Parse).ToArray();
        int outputs = int.Parse(CommandLine.Value(args, "--outputs") ?? "1", CultureInfo.InvariantCulture);
        int repeats = int.Parse(CommandLine.Value(args, "--repeats") ?? "3", CultureInfo.InvariantCulture);
        TorchRuntime.Initialize();

        var options = new KareRegressionTrainer.Options { HiddenLayerWidths = widths };
        KareFitSettings settings = KareTraining.CreateSettings(options, seed: 1);
        int rows = fitRows + validationRows;
        var random = new Random(rows);
        double[] x = Enumerable.Range(0, rows * features).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] y = Enumerable.Range(0, rows * outputs).Select(i => Math.Sin(3 * x[i / outputs * features + i % outputs % features]) + 0.1 * random.NextDouble()).ToArray();
        FitPlan plan = FitPlan.Create(rows, features, outputs, settings);
        using TrainingRun run = TrainingRun.Create(plan, settings, new Random(1));
        using var fit = new RowSet(x, y, null, features, outputs, Enumerable.Range(0, fitRows).ToArray());
        using var validation = new RowSet(x, y, null, features, outputs, Enumerable.Range(fitRows, validationRows).ToArray());
        var architecture = run.Network.Architecture;
        Console.WriteLine($"Held-out measurement, {fitRows} fit rows, {validationRows} held out, d = {features}, widths [{string.Join(",", widths)}], " +
                          $"P = {architecture.ParameterCount}, {outputs} output(s), {settings.RelativeRidgeGrid.Count} ridges, {torch.get_num_threads()} threads, " +
                          $"median of {repeats} after one warm-up.");
        Console.WriteLine("| space | basis rows | ms | parameter / this (measured) | parameter / this (predicted) |");
        Console.WriteLine("|---|---|---|---|---|");

        var measures = new List<(string Space, int Basis, IHeldOutMeasure Measure, double Cost, RowSet? Owned)>
        {
            ("parameter", fitRows, new ParameterSpaceHeldOut(fit, validation, settings.RelativeRidgeGrid),
                PathCosts.ParameterHeldOut(architecture, fitRows, validationRows, outputs, settings.RelativeRidgeGrid.Count), null),
        };
        foreach (int basisRows in bases.Where(b => b <= fitRows))
        {
            RowSet basis = fit.Take(basisRows);
            measures.Add(("kernel", basisRows, new KernelSpaceHeldOut(basis, validation, settings.RelativeRidgeGrid),
                PathCosts.KernelHeldOut(architecture, basisRows, validationRows, outputs, settings.RelativeRidgeGrid.Count), basis));
        }
        var times = measures.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r <= repeats; r++)
        {
            for (int m = 0; m < measures.Count; m++)
            {
                double milliseconds = BenchmarkTiming.Milliseconds(() => measures[m].Measure.Measure(run, () => { }));
                if (r > 0)
                    times[m].Add(milliseconds);
            }
        }
        double parameter = BenchmarkTiming.Median(times[0]);
        for (int m = 0; m < measures.Count; m++)
        {
            double milliseconds = BenchmarkTiming.Median(times[m]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {measures[m].Space} | {measures[m].Basis} | {milliseconds:F1} | {parameter / milliseconds:F2} | {measures[0].Cost / measures[m].Cost:F2} |"));
            measures[m].Owned?.Dispose();
        }
        return 0;
    }
}
