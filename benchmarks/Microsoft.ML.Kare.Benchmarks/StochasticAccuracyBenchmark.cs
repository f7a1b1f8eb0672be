using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Training;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// Is the stochastic KARE gradient (m Hutchinson probes for A², <see cref="KareFitSettings.StochasticProbes"/>) as
/// accurate as the exact one? Trains the paper's simulation (γ = 1, σ = 0) with <see cref="KareFitter.Fit"/> and the
/// regression trainer's default settings, exact and with each probe count, on the same rows, split and initialisation
/// per seed (the settings of one seed run back to back, so load from other processes hits them alike), and prints test
/// MSE (mean ± sd over seeds, and the mean of the per-seed ratio to exact) and fit seconds.
/// Parts: "full" = n = 1000 split 800/200, full batch (the default); "minibatch" = 8,000 training rows (and 2,000 test
/// rows) with BatchSize 1,024, where mini-batch noise adds to the probes' noise anyway.
/// Usage: --stochastic-accuracy [--parts full,minibatch] [--seeds 0,1,2,3,4] [--probes 16,64]
/// [--minibatch-seeds 0,1,2] [--minibatch-rows 8000] [--minibatch-epochs 100] [--batch-size 1024] [--selection holdout|gcv].
/// </summary>
internal static class StochasticAccuracyBenchmark
{
    private const double Gamma = 1.0;
    private const double Sigma = 0.0;

    private sealed record Part(string Name, int TrainRows, int TestRows, int BatchSize, int Epochs, int[] Seeds);

    private sealed record Outcome(string Part, int Probes, int Seed, double TestMse, double Seconds, int SelectedEpoch, double FinalKare);

    public static int Run(string[] args)
    {
        var parts = new HashSet<string> { "full", "minibatch" };
        int[] seeds = { 0, 1, 2, 3, 4 };
        int[] minibatchSeeds = { 0, 1, 2 };
        int[] probes = { 16, 64 };
        int minibatchRows = 8000;
        int minibatchEpochs = KareTrainerDefaults.NumberOfEpochs;
        int batchSize = 1024;
        var selection = KareRidgeSelection.HoldOut;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--parts":
                    parts = new HashSet<string>(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "--seeds":
                    seeds = Ints(args[++i]);
                    break;
                case "--minibatch-seeds":
                    minibatchSeeds = Ints(args[++i]);
                    break;
                case "--probes":
                    probes = Ints(args[++i]);
                    break;
                case "--minibatch-rows":
                    minibatchRows = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--minibatch-epochs":
                    minibatchEpochs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--batch-size":
                    batchSize = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--selection":
                    selection = args[++i].Equals("gcv", StringComparison.OrdinalIgnoreCase)
                        ? KareRidgeSelection.GeneralizedCrossValidation
                        : KareRidgeSelection.HoldOut;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument {args[i]}.");
            }
        }

        var allParts = new List<Part>();
        if (parts.Contains("full"))
            allParts.Add(new Part("full batch, n = 800/200", 800, 200, 0, KareTrainerDefaults.NumberOfEpochs, seeds));
        if (parts.Contains("minibatch"))
            allParts.Add(new Part($"mini-batch {batchSize}, n = {minibatchRows}/{minibatchRows / 4}", minibatchRows, minibatchRows / 4, batchSize, minibatchEpochs, minibatchSeeds));

        int[] settings = new[] { 0 }.Concat(probes).ToArray();
        Console.WriteLine($"Stochastic vs exact KARE gradient on the paper simulation (γ = {Gamma}, σ = {Sigma}); default regression trainer settings, " +
                          $"ridge selection {selection}; {Environment.ProcessorCount} logical cores. Probes 0 = exact.");
        var outcomes = new List<Outcome>();
        foreach (Part part in allParts)
        {
            Console.WriteLine($"-- {part.Name}, {part.Epochs} epochs, seeds {string.Join(",", part.Seeds)}");
            foreach (int seed in part.Seeds)
            {
                List<SimulationRow> rows = PaperSimulation.Generate(part.TrainRows + part.TestRows, Gamma, Sigma, seed: 1000 + seed);
                var train = rows.Take(part.TrainRows).ToList();
                var test = rows.Skip(part.TrainRows).ToList();
                foreach (int m in settings)
                {
                    Outcome outcome = FitOnce(part, train, test, seed, m, selection);
                    outcomes.Add(outcome);
                    Console.WriteLine($"   seed {seed}, probes {m,2}: test MSE {outcome.TestMse:F5}, fit {outcome.Seconds:F1} s, epoch {outcome.SelectedEpoch}, last ρ {outcome.FinalKare:F4}");
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| part | gradient | seeds | test MSE mean ± sd | per-seed test MSE | mean ratio to exact (paired) | fit s mean | selected epoch mean |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (Part part in allParts)
        {
            var exact = outcomes.Where(o => o.Part == part.Name && o.Probes == 0).ToDictionary(o => o.Seed);
            foreach (int m in settings)
            {
                var these = outcomes.Where(o => o.Part == part.Name && o.Probes == m).OrderBy(o => o.Seed).ToList();
                double[] mse = these.Select(o => o.TestMse).ToArray();
                double ratio = these.Average(o => o.TestMse / exact[o.Seed].TestMse);
                Console.WriteLine($"| {part.Name} | {(m == 0 ? "exact" : $"stochastic, m = {m}")} | {these.Count} | {mse.Average():F4} ± {Sd(mse):F4} | " +
                                  $"{string.Join(", ", mse.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))} | {ratio:F2} | " +
                                  $"{these.Average(o => o.Seconds):F1} | {these.Average(o => o.SelectedEpoch):F0} |");
            }
        }
        return 0;
    }

    private static Outcome FitOnce(Part part, List<SimulationRow> train, List<SimulationRow> test, int seed, int probes, KareRidgeSelection selection)
    {
        int d = SimulationRow.FeatureCount;
        var data = new KareTrainingData(
            train.SelectMany(r => r.Features.Select(v => (double)v)).ToArray(), train.Count, d,
            train.Select(r => (double)r.Label).ToArray(), 1, null);
        var options = new KareRegressionTrainer.Options { BatchSize = part.BatchSize, NumberOfEpochs = part.Epochs, RidgeSelection = selection };
        KareFitSettings settings = KareTraining.CreateSettings(options, seed) with { StochasticProbes = probes };
        long start = Stopwatch.GetTimestamp();
        KareFitResult result = KareFitter.Fit(data, settings, new SilentMonitor());
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Outcome(part.Name, probes, seed, TestMse(result, test), seconds, result.SelectedEpoch,
            result.TrainingCurve.Count > 0 ? result.TrainingCurve[^1].Kare : double.NaN);
    }

    /// <summary>Test MSE of a fit, scored by the managed primal scorer as a saved model would be.</summary>
    internal static double TestMse(KareFitResult result, IReadOnlyList<SimulationRow> test)
    {
        var scorer = new PrimalScorer(result.Architecture, result.Parameters, result.PrimalWeights, result.FeatureMeans,
            result.FeatureScales, result.TargetMeans!, result.TargetScales!, featureCompressionScales: result.FeatureCompressionScales);
        var output = new float[1];
        double sum = 0;
        foreach (SimulationRow row in test)
        {
            scorer.Score(row.Features, output);
            double error = output[0] - (double)row.Label;
            sum += error * error;
        }
        return sum / test.Count;
    }

    private static double Sd(double[] values)
    {
        if (values.Length < 2)
            return double.NaN;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }

    private static int[] Ints(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    private sealed class SilentMonitor : ITrainingMonitor<KareEpochSummary>
    {
        public void Info(string message)
        {
        }

        public void Warning(string message) => Console.WriteLine($"   warning: {message}");

        public void Report(KareEpochSummary summary, int totalEpochs)
        {
        }

        public void CheckAlive()
        {
        }
    }
}
