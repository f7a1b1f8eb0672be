using System;
using System.IO;
using System.Linq;
using DiabetesRegression;
using Microsoft.ML;
using Microsoft.ML.Kare.Examples;
using Spectre.Console;
using static System.FormattableString;

// Model Builder-style consumption app: loads the MLModel.zip written by examples/Diabetes.Regression and predicts one
// row, then a batch of rows (the first rows of diabetes.csv).
// Usage: dotnet run --project examples/Diabetes.Regression.Consume -c Release [-- <path of MLModel.zip>]
DiabetesModel.ModelPath = ExamplePaths.ModelPath(args);
if (!File.Exists(DiabetesModel.ModelPath))
{
    AnsiConsole.MarkupLine($"[red]No model at {Markup.Escape(DiabetesModel.ModelPath)}[/]: run [bold]dotnet run --project examples/Diabetes.Regression -c Release[/] first.");
    return 1;
}

// One row, as an application would build it.
var input = new DiabetesModel.ModelInput
{
    Age = 59, Sex = 2, Bmi = 32.1f, BloodPressure = 101, S1 = 157, S2 = 93.2f, S3 = 38, S4 = 4, S5 = 4.8598f, S6 = 87,
};
DiabetesModel.ModelOutput output = DiabetesModel.Predict(input);
AnsiConsole.MarkupLine($"Model: {Markup.Escape(DiabetesModel.ModelPath)}");
AnsiConsole.MarkupLine(Invariant($"Single prediction for age {input.Age}, sex {input.Sex}, bmi {input.Bmi}, bp {input.BloodPressure}, …: predicted progression [bold]{output.Score:F1}[/] (90% interval {output.LowerBound:F1} to {output.UpperBound:F1})"));

// A batch: the first rows of the CSV, scored by one Transform.
const int BatchSize = 10;
var mlContext = new MLContext();
DiabetesModel.ModelInput[] rows = mlContext.Data
    .CreateEnumerable<DiabetesModel.ModelInput>(DiabetesModel.LoadData(mlContext, ExamplePaths.DataFile("diabetes.csv")), reuseRowObject: false)
    .Take(BatchSize).ToArray();
var predictions = DiabetesModel.PredictBatch(rows);
var table = new Table().Title($"Batch prediction: the first {BatchSize} rows of diabetes.csv").AddColumns("row", "age", "sex", "bmi", "bp", "actual", "predicted", "90% interval");
for (int i = 0; i < rows.Length; i++)
    table.AddRow(Invariant($"{i + 1}"), Invariant($"{rows[i].Age}"), Invariant($"{rows[i].Sex}"), Invariant($"{rows[i].Bmi}"),
        Invariant($"{rows[i].BloodPressure}"), Invariant($"{rows[i].Progression}"), Invariant($"{predictions[i].Score:F1}"),
        Invariant($"{predictions[i].LowerBound:F1} – {predictions[i].UpperBound:F1}"));
AnsiConsole.Write(table);
return 0;
