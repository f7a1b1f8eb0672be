using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Spectre.Console;

namespace Microsoft.ML.Kare.Examples;

/// <summary>Console helpers shared by the training examples: a KARE progress bar and number formatting.</summary>
public static class ExampleConsole
{
    /// <summary>
    /// Runs <paramref name="work"/> under a progress bar that advances once per KARE epoch report. Give it the total
    /// number of reports expected (epochs + 1 per fit; several fits for cross-validation).
    /// </summary>
    public static T WithKareProgress<T>(string description, int expectedReports, Func<IProgress<KareEpochSummary>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(description, maxValue: expectedReports);
                int fit = 0;
                string heldOut = "";
                var progress = new EpochProgress(summary =>
                {
                    if (summary.Epoch == 0)
                    {
                        fit++;
                        heldOut = "";
                    }
                    if (!double.IsNaN(summary.ValidationError)) // held-out rows are evaluated on a schedule, not every epoch
                        heldOut = string.Create(CultureInfo.InvariantCulture, $", held-out MSE = {summary.ValidationError:F4} (epoch {summary.Epoch})");
                    task.Increment(1);
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"{description}: fit {fit}, epoch {summary.Epoch,3}, ρ = {summary.Kare:F4}{heldOut}");
                });
                result = work(progress);
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Mean and standard deviation of per-fold values, as "0.123 ± 0.045".</summary>
    public static string MeanAndDeviation(IEnumerable<double> values, string format = "F3")
    {
        double[] v = values.ToArray();
        double mean = v.Average();
        double deviation = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, v.Length - 1));
        return $"{F(mean, format)} ± {F(deviation, format)}";
    }

    /// <summary>Invariant-culture number formatting.</summary>
    public static string F(double value, string format = "F3") => value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>Reports on the training thread, so the progress display updates as epochs finish.</summary>
public sealed class EpochProgress(Action<KareEpochSummary> report) : IProgress<KareEpochSummary>
{
    public void Report(KareEpochSummary value) => report(value);
}
