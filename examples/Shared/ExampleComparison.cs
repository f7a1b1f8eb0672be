using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Spectre.Console;
using static Microsoft.ML.Kare.Examples.ExampleConsole;

namespace Microsoft.ML.Kare.Examples;

/// <summary>A trainer to compare: its name and its pipeline (featurization + trainer), given a KARE progress callback.</summary>
/// <param name="Name">Name shown in the tables.</param>
/// <param name="Pipeline">Builds the pipeline; the argument is the progress callback (used by KARE only).</param>
/// <param name="IsKare">Whether the pipeline trains KARE (shows a progress bar).</param>
public sealed record Candidate(string Name, Func<IProgress<KareEpochSummary>?, IEstimator<ITransformer>> Pipeline, bool IsKare = false);

/// <summary>One metric of the comparison tables: its name and how to format it.</summary>
public sealed record Metric(string Name, string Format = "F3");

/// <summary>
/// Fits each candidate on the training split and scores it on the held-out split, then cross-validates it on all rows,
/// timing both, and prints one table for each.
/// </summary>
public static class ExampleComparison
{
    /// <summary>Runs the comparison; returns the models fitted on the training split, by candidate name.</summary>
    /// <param name="candidates">The pipelines to compare.</param>
    /// <param name="split">The training and held-out rows.</param>
    /// <param name="folds">The number of cross-validation folds (over <paramref name="split"/>'s rows together).</param>
    /// <param name="epochReports">Progress reports per KARE fit (epochs + 1).</param>
    /// <param name="metrics">The metrics, in the order <paramref name="evaluate"/> and <paramref name="crossValidate"/> return them.</param>
    /// <param name="evaluate">Metrics of a fitted model on held-out rows.</param>
    /// <param name="crossValidate">Metrics of each fold of a cross-validation of a pipeline.</param>
    public static Dictionary<string, ITransformer> Run(IReadOnlyList<Candidate> candidates, DataOperationsCatalog.TrainTestData split,
        int folds, int epochReports, IReadOnlyList<Metric> metrics,
        Func<ITransformer, IDataView, double[]> evaluate, Func<IEstimator<ITransformer>, IReadOnlyList<double[]>> crossValidate)
    {
        // Redirected output is 80 columns wide by default: widen it so that the tables do not wrap.
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 120)
            AnsiConsole.Profile.Width = 120;
        var holdOutTable = new Table().Title("Held-out split").AddColumn("trainer");
        var crossValidationTable = new Table().Title($"{folds}-fold cross-validation (mean ± sd over folds)").AddColumn("trainer");
        foreach (Metric metric in metrics)
        {
            holdOutTable.AddColumn(metric.Name);
            crossValidationTable.AddColumn(metric.Name);
        }
        holdOutTable.AddColumn("fit (s)");
        crossValidationTable.AddColumn("all folds (s)");

        var models = new Dictionary<string, ITransformer>();
        foreach (Candidate candidate in candidates)
        {
            var stopwatch = Stopwatch.StartNew();
            ITransformer model = candidate.IsKare
                ? WithKareProgress($"{candidate.Name}, training split", epochReports, progress => candidate.Pipeline(progress).Fit(split.TrainSet))
                : candidate.Pipeline(null).Fit(split.TrainSet);
            double fitSeconds = stopwatch.Elapsed.TotalSeconds;
            double[] holdOut = evaluate(model, split.TestSet);
            models[candidate.Name] = model;

            stopwatch.Restart();
            IReadOnlyList<double[]> perFold = candidate.IsKare
                ? WithKareProgress($"{candidate.Name}, {folds}-fold", folds * epochReports, progress => crossValidate(candidate.Pipeline(progress)))
                : crossValidate(candidate.Pipeline(null));
            double crossValidationSeconds = stopwatch.Elapsed.TotalSeconds;

            string name = candidate.IsKare ? $"[bold]{candidate.Name}[/]" : candidate.Name;
            holdOutTable.AddRow([name, .. metrics.Select((m, k) => F(holdOut[k], m.Format)), F(fitSeconds, "F1")]);
            crossValidationTable.AddRow([name, .. metrics.Select((m, k) => MeanAndDeviation(perFold.Select(f => f[k]), m.Format)), F(crossValidationSeconds, "F1")]);
            AnsiConsole.MarkupLine($"{name}: fitted in {F(fitSeconds, "F1")} s, cross-validated in {F(crossValidationSeconds, "F1")} s.");
        }
        AnsiConsole.Write(holdOutTable);
        AnsiConsole.Write(crossValidationTable);
        return models;
    }
}
