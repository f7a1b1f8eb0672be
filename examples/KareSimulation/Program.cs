using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Examples;
using Spectre.Console;

// The KARE paper's simulation (γ = 1, σ = 0 by default; n = 1000 split 800/200): KARE next to FastTree and SDCA,
// each trained in an ML.NET pipeline on the same rows and scored on the same held-out rows.
// Usage: dotnet run --project examples/KareSimulation -c Release [-- --gamma 1 --sigma 0 --seeds 3]
double gamma = Argument(args, "--gamma", 1.0);
double sigma = Argument(args, "--sigma", 0.0);
int seeds = (int)Argument(args, "--seeds", 3);
const int RowCount = 1000, TrainCount = 800;
const double PaperKare = 0.0321, PaperAfterKernel = 0.1085, PaperDnn = 0.1399;

AnsiConsole.MarkupLine($"[bold]KARE on the paper's simulation[/]: γ = {gamma}, σ = {sigma}, n = {RowCount} ({TrainCount} train / {RowCount - TrainCount} test), {seeds} seeds");
var mlContext = new MLContext(seed: 0);
var table = new Table().AddColumns("seed", "KARE", "FastTree", "SDCA", "zero predictor", "KARE fit (s)");
var results = new List<double[]>();
ITransformer? lastKareModel = null;
IDataView? lastTrain = null, lastTest = null;

for (int seed = 0; seed < seeds; seed++)
{
    List<SimulationRow> rows = PaperSimulation.Generate(RowCount, gamma, sigma, seed: 1000 + seed);
    IDataView train = mlContext.Data.LoadFromEnumerable(rows.Take(TrainCount));
    IDataView test = mlContext.Data.LoadFromEnumerable(rows.Skip(TrainCount));

    var options = new KareRegressionTrainer.Options { Seed = seed };
    var stopwatch = Stopwatch.StartNew();
    ITransformer kare = null!;
    AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(context =>
        {
            ProgressTask task = context.AddTask($"seed {seed}: KARE training", maxValue: options.NumberOfEpochs + 1);
            string heldOut = "";
            options.Progress = new ConsoleProgress(summary =>
            {
                task.Value = summary.Epoch + 1;
                if (!double.IsNaN(summary.ValidationError)) // held-out rows are evaluated on a schedule, not every epoch
                    heldOut = $"  held-out MSE = {summary.ValidationError:F4} (epoch {summary.Epoch})";
                task.Description = $"seed {seed}: epoch {summary.Epoch,3}  ρ = {summary.Kare:F4}{heldOut}";
            });
            kare = mlContext.Regression.Trainers.Kare(options).Fit(train);
        });
    double kareSeconds = stopwatch.Elapsed.TotalSeconds;

    ITransformer fastTree = mlContext.Regression.Trainers.FastTree().Fit(train);
    ITransformer sdca = mlContext.Transforms.NormalizeMeanVariance("Features")
        .Append(mlContext.Regression.Trainers.Sdca())
        .Fit(train);

    double zero = rows.Skip(TrainCount).Average(r => (double)r.Label * r.Label);
    double[] mse =
    {
        TestError(kare, test),
        TestError(fastTree, test),
        TestError(sdca, test),
        zero,
    };
    results.Add(mse);
    table.AddRow(seed.ToString(CultureInfo.InvariantCulture), F(mse[0]), F(mse[1]), F(mse[2]), F(mse[3]), kareSeconds.ToString("F1", CultureInfo.InvariantCulture));
    (lastKareModel, lastTrain, lastTest) = (kare, train, test);
}

double[] mean = Enumerable.Range(0, 4).Select(k => results.Average(r => r[k])).ToArray();
table.AddRow("[bold]mean[/]", $"[bold]{F(mean[0])}[/]", F(mean[1]), F(mean[2]), F(mean[3]), "");
AnsiConsole.MarkupLine("Test mean squared error (lower is better):");
AnsiConsole.Write(table);
if (gamma == 1.0 && sigma == 0.0)
{
    AnsiConsole.MarkupLine($"Paper (γ = 1, σ = 0, 10 seeds, λ chosen on the test set): KARE {PaperKare}, after-kernel {PaperAfterKernel}, DNN {PaperDnn}.");
    AnsiConsole.MarkupLine($"Here λ and the epoch are chosen on training rows only. KARE / paper KARE = {mean[0] / PaperKare:F2}; KARE / FastTree = {mean[0] / mean[1]:F2}.");
}

// Save the last KARE model like any ML.NET model, load it back and check that it scores the same.
string path = Path.Combine(Path.GetTempPath(), "kare-simulation-model.zip");
mlContext.Model.Save(lastKareModel!, lastTrain!.Schema, path);
ITransformer loaded = mlContext.Model.Load(path, out _);
float[] before = mlContext.Data.CreateEnumerable<Prediction>(lastKareModel!.Transform(lastTest!), reuseRowObject: false).Select(p => p.Score).ToArray();
float[] after = mlContext.Data.CreateEnumerable<Prediction>(loaded.Transform(lastTest!), reuseRowObject: false).Select(p => p.Score).ToArray();
double largestDifference = before.Zip(after, (a, b) => Math.Abs(a - b)).Max();
AnsiConsole.MarkupLine($"Saved and reloaded the last KARE model ({new FileInfo(path).Length / 1024.0:F0} KiB): largest score difference {largestDifference:G3}.");
File.Delete(path);

double TestError(ITransformer model, IDataView test) => mlContext.Regression.Evaluate(model.Transform(test)).MeanSquaredError;

static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

static double Argument(string[] args, string name, double fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed class Prediction
{
    public float Score { get; set; }
}

/// <summary>Reports on the training thread, so the progress display updates as epochs finish.</summary>
internal sealed class ConsoleProgress(Action<KareEpochSummary> report) : IProgress<KareEpochSummary>
{
    public void Report(KareEpochSummary value) => report(value);
}
