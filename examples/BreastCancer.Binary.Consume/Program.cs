using System.IO;
using System.Linq;
using BreastCancerBinary;
using Microsoft.ML;
using Microsoft.ML.Kare.Examples;
using Spectre.Console;
using static System.FormattableString;

// Model Builder-style consumption app: loads the MLModel.zip written by examples/BreastCancer.Binary and predicts one
// row, then a batch of rows (the first rows of breast_cancer.csv).
// Usage: dotnet run --project examples/BreastCancer.Binary.Consume -c Release [-- <path of MLModel.zip>]
BreastCancerModel.ModelPath = ExamplePaths.ModelPath(args);
if (!File.Exists(BreastCancerModel.ModelPath))
{
    AnsiConsole.MarkupLine($"[red]No model at {Markup.Escape(BreastCancerModel.ModelPath)}[/]: run [bold]dotnet run --project examples/BreastCancer.Binary -c Release[/] first.");
    return 1;
}

var mlContext = new MLContext();
BreastCancerModel.ModelInput[] rows = mlContext.Data
    .CreateEnumerable<BreastCancerModel.ModelInput>(BreastCancerModel.LoadData(mlContext, ExamplePaths.DataFile("breast_cancer.csv")), reuseRowObject: false)
    .ToArray();

// One row: the first benign row of the CSV, as an application would pass it.
BreastCancerModel.ModelInput input = rows.First(r => !r.Malignant);
BreastCancerModel.ModelOutput output = BreastCancerModel.Predict(input);
AnsiConsole.MarkupLine($"Model: {Markup.Escape(BreastCancerModel.ModelPath)}");
AnsiConsole.MarkupLine(Invariant($"Single prediction for mean radius {input.MeanRadius}, mean texture {input.MeanTexture}, worst area {input.WorstArea}, …: malignant [bold]{output.PredictedMalignant}[/], probability {output.Probability:F3} (actual: {input.Malignant})"));

// A batch: the first rows of the CSV, scored by one Transform.
const int BatchSize = 10;
BreastCancerModel.ModelInput[] batch = rows.Take(BatchSize).ToArray();
var predictions = BreastCancerModel.PredictBatch(batch);
var table = new Table().Title($"Batch prediction: the first {BatchSize} rows of breast_cancer.csv")
    .AddColumns("row", "mean radius", "worst area", "actual", "predicted", "probability");
for (int i = 0; i < batch.Length; i++)
    table.AddRow(Invariant($"{i + 1}"), Invariant($"{batch[i].MeanRadius}"), Invariant($"{batch[i].WorstArea}"),
        batch[i].Malignant ? "malignant" : "benign", predictions[i].PredictedMalignant ? "malignant" : "benign", Invariant($"{predictions[i].Probability:F3}"));
AnsiConsole.Write(table);
return 0;
