using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Kare.Examples;
using Spectre.Console;
using WineMulticlass;
using static System.FormattableString;

// Model Builder-style consumption app: loads the MLModel.zip written by examples/Wine.Multiclass and predicts one row,
// then a batch of rows (the first rows of wine.csv).
// Usage: dotnet run --project examples/Wine.Multiclass.Consume -c Release [-- <path of MLModel.zip>]
WineModel.ModelPath = ExamplePaths.ModelPath(args);
if (!File.Exists(WineModel.ModelPath))
{
    AnsiConsole.MarkupLine($"[red]No model at {Markup.Escape(WineModel.ModelPath)}[/]: run [bold]dotnet run --project examples/Wine.Multiclass -c Release[/] first.");
    return 1;
}

// One row, as an application would build it.
var input = new WineModel.ModelInput
{
    Alcohol = 13.2f, MalicAcid = 1.78f, Ash = 2.14f, AlcalinityOfAsh = 11.2f, Magnesium = 100, TotalPhenols = 2.65f,
    Flavanoids = 2.76f, NonflavanoidPhenols = 0.26f, Proanthocyanins = 1.28f, ColorIntensity = 4.38f, Hue = 1.05f,
    Od280Od315 = 3.4f, Proline = 1050,
};
WineModel.ModelOutput output = WineModel.Predict(input);
AnsiConsole.MarkupLine($"Model: {Markup.Escape(WineModel.ModelPath)}");
AnsiConsole.MarkupLine(Invariant($"Single prediction for alcohol {input.Alcohol}, malic acid {input.MalicAcid}, proline {input.Proline}, …: cultivar [bold]{output.PredictedCultivar}[/], probabilities {string.Join(", ", output.Score.Select(p => p.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}"));

// A batch: rows spread over the CSV (it is sorted by cultivar), scored by one Transform.
var mlContext = new MLContext();
WineModel.ModelInput[] rows = mlContext.Data
    .CreateEnumerable<WineModel.ModelInput>(WineModel.LoadData(mlContext, ExamplePaths.DataFile("wine.csv")), reuseRowObject: false)
    .Where((row, index) => index % 20 == 0).ToArray();
var predictions = WineModel.PredictBatch(rows);
var table = new Table().Title("Batch prediction: every 20th row of wine.csv")
    .AddColumns("row", "alcohol", "flavanoids", "proline", "actual", "predicted", "probability of the prediction");
for (int i = 0; i < rows.Length; i++)
    table.AddRow(Invariant($"{20 * i + 1}"), Invariant($"{rows[i].Alcohol}"), Invariant($"{rows[i].Flavanoids}"), Invariant($"{rows[i].Proline}"),
        Invariant($"{rows[i].Cultivar}"), Invariant($"{predictions[i].PredictedCultivar}"), Invariant($"{predictions[i].Score.Max():F3}"));
AnsiConsole.Write(table);
return 0;
