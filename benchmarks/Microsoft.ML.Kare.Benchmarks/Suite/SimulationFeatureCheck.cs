using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Kare.Examples;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// The paper simulation's six cells (γ, σ) × seeds, n = 1,000 (800 training, 200 test rows, the generator seeds of
/// examples/KareReproduction), fitted by the default regression trainer through <see cref="SuiteFit.Kare"/> with the
/// features as stored and with their normal scores appended (<see cref="SuiteDataSet.WithNormalScores"/>): a paired
/// check of that preprocessing on the simulation before it goes into the trainer.
/// </summary>
/// <remarks>
/// Usage: <c>--simulation-check [--seeds 10] [--cells 0,1,…] [--below R] [--out FILE]</c>: cells are indices into the
/// six (γ, σ); <c>--below R</c> appends only the scores that correlate with their column below R
/// (<see cref="SuiteFit.NormalScoresMaximumCorrelation"/>).
/// </remarks>
internal static class SimulationFeatureCheck
{
    private const int RowCount = 1000, TrainCount = 800;

    public static int Run(string[] args)
    {
        int seeds = int.Parse(CommandLine.Value(args, "--seeds") ?? "10", CultureInfo.InvariantCulture);
        double maximumCorrelation = CommandLine.Value(args, "--below") is string below ? double.Parse(below, CultureInfo.InvariantCulture) : 1.0;
        (double Gamma, double Sigma)[] grid = { (1.0, 0.0), (1.25, 0.0), (1.5, 0.0), (1.0, 0.1), (1.25, 0.1), (1.5, 0.1) };
        var options = KareOptionAssignments.Parse(Array.Empty<string>());
        var lines = new List<string>
        {
            $"Test MSE, mean over {seeds} seeds (paper simulation, {TrainCount} training / {RowCount - TrainCount} test rows, default regression trainer):",
            string.Empty,
            "| γ, σ | features | + normal scores | mean difference | standard error | seeds better |",
            "|---|---|---|---|---|---|",
        };
        int[] cells = CommandLine.List(args, "--cells")?.Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() ?? Enumerable.Range(0, grid.Length).ToArray();
        foreach (var (gamma, sigma) in cells.Select(c => grid[c]))
        {
            var plain = new List<double>();
            var scored = new List<double>();
            for (int seed = 0; seed < seeds; seed++)
            {
                var (x, y) = PaperSimulation.GenerateArrays(RowCount, 10, gamma, sigma, seed: 1000 + seed);
                bool[] mask = Enumerable.Range(0, RowCount).Select(i => i < TrainCount).ToArray();
                SuiteDataSet data = SuiteDataSet.FromArrays($"simulation γ={gamma} σ={sigma} seed {seed}", SuiteTask.Regression, y, x, new[] { mask });
                double[] test = y.Skip(TrainCount).Select(v => (double)v).ToArray();
                double mean = test.Average();
                double total = test.Sum(v => (v - mean) * (v - mean)) / test.Length;
                SuiteFit.NormalScores = false;
                plain.Add((1 - SuiteFit.Kare(data, 1, "simulation", options, intervalBaseline: false).Metric) * total);
                SuiteFit.NormalScores = true;
                SuiteFit.NormalScoresAppended = true;
                SuiteFit.NormalScoresMaximumCorrelation = maximumCorrelation;
                scored.Add((1 - SuiteFit.Kare(data, 1, "simulation", options, intervalBaseline: false).Metric) * total);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"γ = {gamma}, σ = {sigma}, seed {seed}: {plain[^1]:F4} / {scored[^1]:F4}"));
            }
            double[] differences = scored.Zip(plain, (s, p) => s - p).ToArray();
            double meanDifference = differences.Average();
            double standardError = Math.Sqrt(differences.Sum(d => (d - meanDifference) * (d - meanDifference)) / (seeds - 1) / seeds);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {gamma}, {sigma} | {plain.Average():F4} | {scored.Average():F4} | {meanDifference:+0.0000;−0.0000} | {standardError:F4} | {differences.Count(d => d < 0)} of {seeds} |"));
        }
        SuiteFit.NormalScores = SuiteFit.NormalScoresAppended = false;
        SuiteFit.NormalScoresMaximumCorrelation = 1.0;
        Console.WriteLine();
        foreach (string line in lines)
            Console.WriteLine(line);
        if (CommandLine.Value(args, "--out") is string outPath)
            File.WriteAllLines(outPath, lines);
        return 0;
    }
}
