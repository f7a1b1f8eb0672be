using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// Predictive quality on a folder of data sets in the suite format (<see cref="SuiteDataSet"/>): fits the KARE trainer
/// of each data set's task on each fixed split with the options given, caches every result
/// (<see cref="SuiteResultStore"/>), and prints the tables of <see cref="SuiteReport"/> next to the reference results of
/// the folder's <c>peers.txt</c>.
/// </summary>
/// <remarks>
/// Usage: <c>--suite [FOLDER] [--name RUN] [--option Name=Value]... [--datasets a,b] [--tasks regression,binary,multiclass]
/// [--splits 1,2] [--max-rows N] [--training-rows N] [--refit-peers] [--rbf-reference] [--normal-scores]
/// [--normal-scores-appended] [--normal-scores-below R] [--compare RUN,RUN] [--report-only] [--results FOLDER]
/// [--out FILE]</c>. <c>--normal-scores</c> gives the KARE fits the normal scores of the features instead of the
/// features (<see cref="SuiteDataSet.WithNormalScores"/>), <c>--normal-scores-appended</c> both, and
/// <c>--normal-scores-below R</c> both with only the scores that correlate with their column below R; name such a run
/// apart: the options recorded with it do not say so. These prototypes of the trainer's <c>AppendNormalScores</c> were
/// measured with it off (before it was the default): pass <c>--option AppendNormalScores=false</c> to repeat them.
/// FOLDER defaults to the suite copied into this project (data/suite). RUN names an option set (default "defaults");
/// results are stored under it, so an interrupted run resumes. <c>--compare</c> reports several stored runs side by
/// side; <c>--refit-peers</c> refits ML.NET's reference trainers (runs "mlnet-MODEL") instead of taking their results from
/// the file; with <c>--training-rows</c> (or <c>--rbf-reference</c>) it also fits the cross-validated RBF kernel ridge of
/// <see cref="RbfKernelRidgeReference"/> (run "reference-RbfKernelRidgeCv"), which on all rows repeats the file's
/// <c>sk:krr_rbf_cv</c> and would count it twice. <c>--training-rows N</c> fits every split on a stratified random
/// subsample of N of its training rows (<see cref="SuiteDataSet.WithTrainingRows"/>), tested on the same test rows:
/// small-n selection measured on real data. Its results live in their own folder (<c>training-rows-N</c>) and the file's
/// reference results, fitted on all rows, are left out; refit ML.NET's peers on the same rows with <c>--refit-peers</c>.
/// Runs are sequential: every fit has the machine to itself.
/// </remarks>
internal static class SuiteBenchmark
{
    /// <summary>Refitted ML.NET reference models are stored as runs named with this prefix and the model.</summary>
    private const string PeerRunPrefix = "mlnet-";

    /// <summary>Reference models computed in this project (<see cref="RbfKernelRidgeReference"/>) are stored with this prefix.</summary>
    private const string ReferenceRunPrefix = "reference-";

    public static int Run(string[] args)
    {
        string folder = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal)
            ? args[0]
            : Path.Combine(AppContext.BaseDirectory, "data", "suite");
        string run = CommandLine.Value(args, "--name") ?? "defaults";
        var options = KareOptionAssignments.Parse(CommandLine.Values(args, "--option"));
        int? trainingRows = CommandLine.Value(args, "--training-rows") is string rowsText ? int.Parse(rowsText, CultureInfo.InvariantCulture) : null;
        string resultsFolder = CommandLine.Value(args, "--results") ?? DefaultResultsFolder();
        var store = new SuiteResultStore(trainingRows is int n ? Path.Combine(resultsFolder, string.Create(CultureInfo.InvariantCulture, $"training-rows-{n}")) : resultsFolder);
        bool reportOnly = args.Contains("--report-only");
        bool refitPeers = args.Contains("--refit-peers");
        bool rbfReference = args.Contains("--rbf-reference");
        if (CommandLine.Value(args, "--normal-scores-below") is string correlation)
            SuiteFit.NormalScoresMaximumCorrelation = double.Parse(correlation, CultureInfo.InvariantCulture);
        SuiteFit.NormalScoresAppended = args.Contains("--normal-scores-appended") || SuiteFit.NormalScoresMaximumCorrelation < 1;
        SuiteFit.NormalScores = args.Contains("--normal-scores") || SuiteFit.NormalScoresAppended;

        var catalog = SuiteDataSet.Catalog(folder);
        var wantedSets = CommandLine.List(args, "--datasets");
        var wantedTasks = CommandLine.List(args, "--tasks");
        int maxRows = int.Parse(CommandLine.Value(args, "--max-rows") ?? int.MaxValue.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var dataSets = catalog
            .Where(c => wantedSets is null || wantedSets.Contains(c.Name))
            .Where(c => wantedTasks is null || wantedTasks.Contains(c.Task.ToString().ToLowerInvariant()))
            .Select(c => SuiteDataSet.Load(folder, c.Name, c.Task))
            .Where(d => d.TrainingRowCount(1) <= maxRows)
            .Select(d => trainingRows is int n ? d.WithTrainingRows(n) : d)
            .OrderBy(d => d.TrainingRowCount(1))
            .ToList();
        int splitCount = dataSets.Count > 0 ? dataSets.Max(d => d.SplitCount) : 0;
        int[] splits = (CommandLine.List(args, "--splits")?.Select(s => int.Parse(s, CultureInfo.InvariantCulture)) ?? Enumerable.Range(1, splitCount)).ToArray();

        Console.WriteLine($"Suite: {folder}, {dataSets.Count} data sets, splits {string.Join(",", splits)}; results in {store.Folder}.");
        if (!reportOnly)
        {
            var work = new List<(SuiteDataSet Data, int Split, string Run, string Model)>();
            foreach (SuiteDataSet data in dataSets)
            {
                foreach (int split in splits.Where(s => s <= data.SplitCount))
                {
                    work.Add((data, split, run, "Kare"));
                    if (refitPeers)
                    {
                        work.AddRange(SuiteFit.MlNetPeers(data.Task).Select(p => (data, split, PeerRunPrefix + Sanitize(p), p)));
                        if (trainingRows is not null || rbfReference)
                            work.Add((data, split, ReferenceRunPrefix + SuiteFit.RbfKernelRidgeModel, SuiteFit.RbfKernelRidgeModel));
                    }
                }
            }
            Console.WriteLine($"Run '{run}': {options.Canonical}; {work.Count} fits.");
            Execute(work, options, store);
        }

        var report = new SuiteReport(dataSets.Select(d => (d.Name, d.Task, d.TrainingRowCount(1))).ToList());
        string peerFile = Path.Combine(folder, "peers.txt");
        if (trainingRows is null && File.Exists(peerFile))
            report.AddPeerFile(peerFile);
        if (refitPeers)
        {
            foreach (string peerRun in store.Runs().Where(r => r.StartsWith(PeerRunPrefix, StringComparison.Ordinal) || r.StartsWith(ReferenceRunPrefix, StringComparison.Ordinal)))
                report.AddPeerRun(store.All(peerRun).Where(r => splits.Contains(r.Split)), splits.Length);
        }
        var names = dataSets.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string candidate in CommandLine.List(args, "--compare") ?? new[] { run })
            report.AddCandidate(candidate, store.All(candidate).Where(r => names.Contains(r.DataSet) && splits.Contains(r.Split)));
        string text = report.Render(splits.Length);
        Console.WriteLine();
        Console.WriteLine(text);
        if (CommandLine.Value(args, "--out") is string outPath)
            File.WriteAllText(outPath, text);
        return 0;
    }

    private static void Execute(List<(SuiteDataSet Data, int Split, string Run, string Model)> work, KareOptionAssignments options, SuiteResultStore store)
    {
        var stopwatch = Stopwatch.StartNew();
        int done = 0;
        foreach (var (data, split, run, model) in work)
        {
            done++;
            string optionText = model == "Kare" ? options.Canonical : "defaults";
            if (store.Find(run, data.Name, split, optionText) is not null)
                continue;
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"[{done}/{work.Count}] {data.Name} split {split} ({data.TrainingRowCount(split)} rows) {model} ... "));
            SuiteFitResult result = model switch
            {
                "Kare" => SuiteFit.Kare(data, split, run, options),
                SuiteFit.RbfKernelRidgeModel => SuiteFit.RbfKernelRidge(data, split),
                _ => SuiteFit.MlNet(data, split, model),
            };
            store.Save(run, result);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(data.Task == SuiteTask.Regression ? "R²" : "accuracy")} {result.Metric:F4}, {result.FitSeconds:F1} s; elapsed {stopwatch.Elapsed.TotalMinutes:F1} min"));
        }
    }

    private static string Sanitize(string model) => new(model.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    /// <summary>results/suite beside this project's sources (found by walking up from the working directory), else ./results/suite.</summary>
    private static string DefaultResultsFolder()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Microsoft.ML.Kare.sln")))
                return Path.Combine(directory.FullName, "benchmarks", "Microsoft.ML.Kare.Benchmarks", "results", "suite");
        }
        return Path.Combine(Environment.CurrentDirectory, "results", "suite");
    }
}
