using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Kare;
using Microsoft.ML;
using ScottPlot;
using Spectre.Console;
using static Microsoft.ML.Kare.Examples.ExampleConsole;

// Reproduction of the KARE paper's simulation study (Figure 1 and its table; the paper's simulation study): γ ∈ {1, 1.25, 1.5},
// σ ∈ {0, 0.1}, n = 1000 split 800/200, a 1 × 64 GELU network, 10 seeds. Each method is an ML.NET trainer with default
// options except where the paper's protocol says otherwise, and every choice (ridge, epoch) is made on training rows
// only — the paper chose λ on the test set. Writes results/reproduction.md and results/reproduction.png.
// Usage: dotnet run --project examples/KareReproduction -c Release [-- --quick] [--seeds 10] [--learning-rate 20] [--width 64]
//        [--float32 1|0] [--patience 20] [--first-seed 0] [--kare-only]
// (--learning-rate changes KARE's step, --width its network's hidden width, --float32 the precision of its training
// steps and --patience its early-stopping patience in epochs, to measure a candidate default against this one;
// --first-seed runs seeds first-seed, first-seed + 1, … for more pairs; --kare-only fits KARE alone, for such pairs.)
bool quick = args.Contains("--quick");
int seeds = (int)Argument(args, "--seeds", quick ? 3 : 10);
int firstSeed = (int)Argument(args, "--first-seed", 0);
double learningRate = Argument(args, "--learning-rate", new KareRegressionTrainer.Options().LearningRate);
bool singlePrecision = args.Contains("--float32") ? Argument(args, "--float32", 0) != 0 : new KareRegressionTrainer.Options().SinglePrecisionTraining;
int[] widths = args.Contains("--width") ? new[] { (int)Argument(args, "--width", 0) } : new KareRegressionTrainer.Options().HiddenLayerWidths;
int? patience = args.Contains("--patience") ? (int)Argument(args, "--patience", 0) : new KareRegressionTrainer.Options().EarlyStoppingPatience;
bool kareOnly = args.Contains("--kare-only");
(double Gamma, double Sigma)[] grid = quick
    ? new[] { (1.0, 0.0), (1.5, 0.0) }
    : new[] { (1.0, 0.0), (1.25, 0.0), (1.5, 0.0), (1.0, 0.1), (1.25, 0.1), (1.5, 0.1) };
const int RowCount = 1000, TrainCount = 800;

var methods = new Method[]
{
    new("KARE", ml => ml.Regression.Trainers.Kare(new KareRegressionTrainer.Options
    {
        LearningRate = learningRate,
        HiddenLayerWidths = widths,
        SinglePrecisionTraining = singlePrecision,
        EarlyStoppingPatience = patience,
    })),
    new("after-kernel", ml => ml.Regression.Trainers.Kare(new KareRegressionTrainer.Options
    {
        Method = KareMethod.AfterKernel,
        RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
    })),
    new("DNN", ml => ml.Regression.Trainers.Kare(new KareRegressionTrainer.Options
    {
        Method = KareMethod.NeuralNetwork,
        RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
    })),
    new("NTK at init", ml => ml.Regression.Trainers.Kare(new KareRegressionTrainer.Options
    {
        Method = KareMethod.NtkAtInitialization,
        RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
    })),
    new("infinite-width NTK", ml => ml.Regression.Trainers.InfiniteWidthNtk()),
};
if (kareOnly)
    methods = methods.Take(1).ToArray();
string[] columns = methods.Select(m => m.Name).Append("zero").ToArray();

// The paper's table (the paper's simulation study): KARE, after-kernel, DNN, zero; λ chosen on the test set, 10 seeds.
var paper = new Dictionary<(double, double), double[]>
{
    [(1.0, 0.0)] = new[] { 0.0321, 0.1085, 0.1399, 0.1957 },
    [(1.25, 0.0)] = new[] { 0.1270, 0.1611, 0.2167, 0.2055 },
    [(1.5, 0.0)] = new[] { 0.1663, 0.1937, 0.3275, 0.2083 },
    [(1.0, 0.1)] = new[] { 0.0619, 0.1227, 0.1563, 0.2049 },
    [(1.25, 0.1)] = new[] { 0.1456, 0.1684, 0.2255, 0.2159 },
    [(1.5, 0.1)] = new[] { 0.1770, 0.2080, 0.4094, 0.2218 },
};

AnsiConsole.MarkupLine($"[bold]KARE paper reproduction[/]: {grid.Length} settings × {seeds} seeds × {methods.Length} methods, n = {RowCount} ({TrainCount} train / {RowCount - TrainCount} test)");
var mlContext = new MLContext(seed: 0);
// errors[cell][method][seed], seconds[method]
var errors = grid.Select(_ => columns.Select(_ => new List<double>()).ToArray()).ToArray();
var seconds = new double[methods.Length];
var total = Stopwatch.StartNew();

AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(context =>
    {
        ProgressTask task = context.AddTask("fits", maxValue: grid.Length * seeds * methods.Length);
        for (int cell = 0; cell < grid.Length; cell++)
        {
            var (gamma, sigma) = grid[cell];
            for (int seed = firstSeed; seed < firstSeed + seeds; seed++)
            {
                List<SimulationRow> rows = PaperSimulation.Generate(RowCount, gamma, sigma, seed: 1000 + seed);
                IDataView train = mlContext.Data.LoadFromEnumerable(rows.Take(TrainCount));
                IDataView test = mlContext.Data.LoadFromEnumerable(rows.Skip(TrainCount));
                for (int m = 0; m < methods.Length; m++)
                {
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"γ = {gamma}, σ = {sigma}, seed {seed}: {methods[m].Name}");
                    var context1 = new MLContext(seed: seed);
                    var stopwatch = Stopwatch.StartNew();
                    ITransformer model = methods[m].Create(context1).Fit(train);
                    seconds[m] += stopwatch.Elapsed.TotalSeconds;
                    errors[cell][m].Add(mlContext.Regression.Evaluate(model.Transform(test)).MeanSquaredError);
                    task.Increment(1);
                }
                errors[cell][methods.Length].Add(rows.Skip(TrainCount).Average(r => (double)r.Label * r.Label));
            }
        }
    });

// Console and markdown tables: mean ± sd of the test MSE, then the paper's numbers.
var table = new Table().AddColumn("γ, σ");
foreach (string column in columns)
    table.AddColumn(column);
table.AddColumn("paper KARE / after-kernel / DNN / zero");
var markdown = new StringBuilder();
markdown.AppendLine($"Test MSE, mean ± sd over {seeds} seeds (n = {RowCount}: {TrainCount} train / {RowCount - TrainCount} test; ridge and epoch chosen on training rows only). Paper: λ chosen on the test set, 10 seeds.");
markdown.AppendLine();
markdown.AppendLine("| γ, σ | " + string.Join(" | ", columns) + " | paper KARE | paper after-kernel | paper DNN | paper zero |");
markdown.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", columns.Length + 4)));
int kareWins = 0;
for (int cell = 0; cell < grid.Length; cell++)
{
    var (gamma, sigma) = grid[cell];
    string setting = string.Create(CultureInfo.InvariantCulture, $"{gamma}, {sigma}");
    string[] cells = errors[cell].Select(e => MeanAndDeviation(e, "F4")).ToArray();
    double[] published = paper[(gamma, sigma)];
    table.AddRow(new[] { setting }.Concat(cells).Append(string.Join(" / ", published.Select(v => F(v, "F4")))).ToArray());
    markdown.AppendLine($"| {setting} | " + string.Join(" | ", cells) + " | " + string.Join(" | ", published.Select(v => F(v, "F4"))) + " |");
    double kare = errors[cell][0].Average();
    if (!kareOnly && kare < errors[cell][1].Average() && kare < errors[cell][2].Average())
        kareWins++;
}
markdown.AppendLine();
markdown.AppendLine((kareOnly ? string.Empty : $"KARE beats after-kernel and DNN in {kareWins} of {grid.Length} settings. ") + "Mean fit time per data set: " +
    string.Join(", ", methods.Select((m, i) => $"{m.Name} {F(seconds[i] / (grid.Length * seeds), "F1")} s")) +
    $"; {F(total.Elapsed.TotalMinutes, "F1")} min in all.");
AnsiConsole.MarkupLine("Test mean squared error (lower is better):");
AnsiConsole.Write(table);
AnsiConsole.MarkupLine(markdown.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].EscapeMarkup());

string directory = Path.Combine(ExamplePaths.ModelDirectory, "results");
Directory.CreateDirectory(directory);
string suffix = (quick ? "-quick" : string.Empty) + (args.Contains("--learning-rate") ? string.Create(CultureInfo.InvariantCulture, $"-lr{learningRate}") : string.Empty)
    + (args.Contains("--width") ? string.Create(CultureInfo.InvariantCulture, $"-w{widths[0]}") : string.Empty)
    + (args.Contains("--float32") ? (singlePrecision ? "-f32" : "-f64") : string.Empty)
    + (args.Contains("--patience") ? string.Create(CultureInfo.InvariantCulture, $"-patience{patience}") : string.Empty)
    + (kareOnly ? "-kare" : string.Empty)
    + (firstSeed != 0 ? string.Create(CultureInfo.InvariantCulture, $"-s{firstSeed}") : string.Empty);
string markdownPath = Path.Combine(directory, $"reproduction{suffix}.md");
File.WriteAllText(markdownPath, markdown.ToString());
// Every fit's test MSE, so that two runs compare seed by seed (paired differences).
var perSeed = new StringBuilder("gamma,sigma,seed,method,test_mse\n");
for (int cell = 0; cell < grid.Length; cell++)
    for (int m = 0; m < columns.Length; m++)
        for (int seed = 0; seed < errors[cell][m].Count; seed++)
            perSeed.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{grid[cell].Gamma},{grid[cell].Sigma},{firstSeed + seed},{columns[m]},{errors[cell][m][seed]:R}"));
File.WriteAllText(Path.Combine(directory, $"reproduction{suffix}-per-seed.csv"), perSeed.ToString());
string figurePath = Path.Combine(directory, $"reproduction{suffix}.png");
Figure(figurePath, grid, columns, errors);
AnsiConsole.MarkupLine($"Wrote {markdownPath.EscapeMarkup()} and {figurePath.EscapeMarkup()}.");

// Grouped bars: one group per setting, one bar per method (mean test MSE, error bar = sd).
static void Figure(string path, (double Gamma, double Sigma)[] grid, string[] columns, List<double>[][] errors)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    var bars = new List<Bar>();
    double groupWidth = columns.Length + 1;
    for (int cell = 0; cell < grid.Length; cell++)
    {
        for (int m = 0; m < columns.Length; m++)
        {
            double[] values = errors[cell][m].ToArray();
            double mean = values.Average();
            double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length - 1));
            bars.Add(new Bar { Position = cell * groupWidth + m, Value = mean, Error = sd, FillColor = palette.GetColor(m) });
        }
    }
    plot.Add.Bars(bars);
    for (int m = 0; m < columns.Length; m++)
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = columns[m], FillColor = palette.GetColor(m) });
    double[] ticks = Enumerable.Range(0, grid.Length).Select(cell => cell * groupWidth + (columns.Length - 1) / 2.0).ToArray();
    string[] labels = grid.Select(g => string.Create(CultureInfo.InvariantCulture, $"γ = {g.Gamma}, σ = {g.Sigma}")).ToArray();
    plot.Axes.Bottom.SetTicks(ticks, labels);
    plot.Axes.Margins(bottom: 0);
    plot.Title("KARE paper simulation: test MSE by method (mean ± sd over seeds)");
    plot.YLabel("test MSE");
    plot.ShowLegend(Alignment.UpperLeft);
    plot.SavePng(path, 1100, 600);
}

static double Argument(string[] args, string name, double fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>A method of the comparison: its name and its ML.NET trainer, created for one fit.</summary>
internal sealed record Method(string Name, Func<MLContext, IEstimator<ITransformer>> Create);
