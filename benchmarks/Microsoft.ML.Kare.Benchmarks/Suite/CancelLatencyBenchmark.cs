using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML.Kare.LibTorch;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// How long a default fit takes to stop once its <c>CancellationToken</c> is cancelled, at points spread over the fit:
/// each data set (split 1 of the public suite) is fitted once to time it, then again k times, cancelled after
/// (j + ½)/k of that time (j = 0 … k − 1). Prints, per cancellation, when it was cancelled, the seconds until
/// <c>Fit</c> threw <see cref="OperationCanceledException"/>, and the fit's last log line before the cancellation (its
/// stage); a second series cancels 0–2 s after the end of training, where the final fits run; then the largest
/// latency per data set. Usage:
/// <c>--cancel-latency [FOLDER] [--datasets ames,spam,dna,hpc] [--points 8] [--option Name=Value]...</c> (options as in
/// <c>--suite</c>, for example <c>--option Method=NtkAtInitialization --option RidgeSelection=GeneralizedCrossValidation</c>).
/// </summary>
internal static class CancelLatencyBenchmark
{
    public static int Run(string[] args)
    {
        string folder = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal)
            ? args[0]
            : Path.Combine(AppContext.BaseDirectory, "data", "suite");
        var wanted = CommandLine.List(args, "--datasets") ?? new[] { "concrete", "ames", "spam", "dna", "hpc" };
        int points = int.Parse(CommandLine.Value(args, "--points") ?? "8", CultureInfo.InvariantCulture);
        _options = KareOptionAssignments.Parse(CommandLine.Values(args, "--option"));
        Console.WriteLine("Options: " + _options.Canonical);
        var catalog = SuiteDataSet.Catalog(folder);
        var worst = new List<string>();
        foreach (string name in wanted)
        {
            var (_, task) = catalog.Single(c => c.Name == name);
            SuiteDataSet data = SuiteDataSet.Load(folder, name, task);
            double full = Fit(data, CancellationToken.None, out _);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} ({data.TrainingRowCount(1)} rows, {task}): the whole fit {full:F1} s"));
            double largest = 0;
            for (int j = 0; j < points; j++)
            {
                double at = full * (j + 0.5) / points;
                largest = Math.Max(largest, CancelOnce(data, string.Create(CultureInfo.InvariantCulture, $"at {at,6:F1} s"), at, fromEndOfTraining: false));
            }
            // The stages after training (final ridge regressions, leave-one-out outputs, intervals, calibration) are short
            // and come last, where cancellations spread over the whole fit rarely land: cancel them from the end of training.
            foreach (double delay in AfterTrainingDelays)
            {
                string when = string.Create(CultureInfo.InvariantCulture, $"{delay:F2} s after training ended");
                largest = Math.Max(largest, CancelOnce(data, when, delay, fromEndOfTraining: true));
            }
            worst.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {largest:F3} s"));
        }
        Console.WriteLine("Largest latency from Cancel() to the end of Fit: " + string.Join(", ", worst));
        return 0;
    }

    /// <summary>
    /// One fit, cancelled <paramref name="delay"/> seconds after it starts (or after its training ends); prints when, the
    /// outcome and the seconds from <c>Cancel()</c> to the end of <c>Fit</c>, and returns those seconds (0 when the fit
    /// had finished before the cancellation).
    /// </summary>
    private static double CancelOnce(SuiteDataSet data, string when, double delay, bool fromEndOfTraining)
    {
        using var cancellation = new CancellationTokenSource();
        using var trainingEnded = new ManualResetEventSlim(initialState: !fromEndOfTraining);
        string stage = "";
        Task<double> fit = Task.Run(() => Fit(data, cancellation.Token, out stage, line =>
        {
            if (line.Contains("Early stopping at epoch", StringComparison.Ordinal) || LastEpoch.IsMatch(line))
                trainingEnded.Set();
        }));
        WaitHandle.WaitAny(new[] { trainingEnded.WaitHandle, ((IAsyncResult)fit).AsyncWaitHandle });
        bool finished = fit.Wait(TimeSpan.FromSeconds(delay));
        var clock = Stopwatch.StartNew();
        cancellation.Cancel();
        string outcome;
        try
        {
            fit.Wait();
            outcome = finished ? "finished before the cancellation" : "finished after the cancellation";
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
            outcome = "cancelled";
        }
        double latency = clock.Elapsed.TotalSeconds;
        // A decomposition the fit left running when it was cancelled ends in the background; the next fit would wait for it.
        CancellableNativeCall.Pending.Wait();
        double background = clock.Elapsed.TotalSeconds - latency;
        string leftBehind = background > 0.01 ? string.Create(CultureInfo.InvariantCulture, $" (a decomposition left running ended {background:F1} s after that)") : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  cancelled {when}: {outcome}, {latency:F3} s later{leftBehind}; last log line: {stage}"));
        return finished ? 0 : latency;
    }

    private static KareOptionAssignments _options = KareOptionAssignments.Empty;

    /// <summary>The progress line of a fit's last scheduled epoch ("Epoch 100/100", "Epoch 0/0" for a kernel at initialisation).</summary>
    private static readonly Regex LastEpoch = new(@"\bEpoch (\d+)/\1\b", RegexOptions.CultureInvariant);

    /// <summary>Seconds after the end of training at which the second series cancels.</summary>
    private static readonly double[] AfterTrainingDelays = { 0, 0.1, 0.3, 0.6, 1, 2 };

    /// <summary>
    /// The default trainer of the data set's task fitted on split 1; seconds, and the last log line it wrote (every
    /// line also goes to <paramref name="onLine"/>).
    /// </summary>
    private static double Fit(SuiteDataSet data, CancellationToken cancellation, out string lastLine, Action<string>? onLine = null)
    {
        var mlContext = new MLContext(seed: 0);
        var (train, _) = SuiteFit.Views(mlContext, data, 1);
        string last = "";
        mlContext.Log += (_, e) =>
        {
            if (e.Kind is Microsoft.ML.Runtime.ChannelMessageKind.Trace)
                return;
            Volatile.Write(ref last, e.Message.Length > 110 ? e.Message[..110] + "…" : e.Message);
            onLine?.Invoke(e.Message);
        };
        IEstimator<ITransformer> trainer = SuiteFit.KareTrainer(mlContext, data.Task, _options, cancellation);
        var clock = Stopwatch.StartNew();
        try
        {
            trainer.Fit(train);
        }
        finally
        {
            lastLine = Volatile.Read(ref last);
        }
        return clock.Elapsed.TotalSeconds;
    }
}
