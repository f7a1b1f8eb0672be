using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Transforms;
using Spectre.Console;
using WineMulticlass;
using static Microsoft.ML.Kare.Examples.ExampleConsole;

// Model Builder-style training app on the UCI wine data (178 rows, label Cultivar 0–2): one featurization, the KARE
// multiclass trainer with default options next to LightGBM, FastTree (one-versus-all), SDCA and L-BFGS maximum
// entropy, evaluated on an 80/20 hold-out split and by 5-fold cross-validation; plots; then the KARE pipeline is
// retrained on all rows and saved as MLModel.zip.
// Usage: dotnet run --project examples/Wine.Multiclass -c Release [-- <path of MLModel.zip>]
const int Folds = 5, Seed = 0;
string modelPath = ExamplePaths.ModelPath(args);
string dataPath = ExamplePaths.DataFile("wine.csv");
string label = WineModel.LabelColumn;

var mlContext = new MLContext(seed: Seed);
IDataView data = WineModel.LoadData(mlContext, dataPath);
DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: Seed);
int trainCount = split.TrainSet.GetColumn<float>(label).Count(), testCount = split.TestSet.GetColumn<float>(label).Count();
int epochReports = new KareMulticlassTrainer.Options().NumberOfEpochs + 1;
AnsiConsole.MarkupLine($"[bold]Wine cultivar[/] ({Path.GetFileName(dataPath)}): {trainCount} training rows, {testCount} held-out rows, {Folds}-fold cross-validation on all {trainCount + testCount}.");

var multiclass = mlContext.MulticlassClassification.Trainers;
Candidate[] candidates =
{
    new("KARE", progress => WineModel.BuildPipeline(mlContext, progress, Seed), IsKare: true),
    new("LightGBM", _ => WineModel.BuildPipeline(mlContext, multiclass.LightGbm(labelColumnName: label))),
    new("FastTree (OVA)", _ => WineModel.BuildPipeline(mlContext,
        multiclass.OneVersusAll(mlContext.BinaryClassification.Trainers.FastTree(labelColumnName: label), labelColumnName: label))),
    new("SDCA max. entropy", _ => WineModel.BuildPipeline(mlContext, multiclass.SdcaMaximumEntropy(labelColumnName: label))),
    new("L-BFGS max. entropy", _ => WineModel.BuildPipeline(mlContext, multiclass.LbfgsMaximumEntropy(labelColumnName: label))),
};
Dictionary<string, ITransformer> models = ExampleComparison.Run(candidates, split, Folds, epochReports,
    [new Metric("macro accuracy"), new Metric("micro accuracy"), new Metric("log-loss")],
    (model, test) => Metrics(mlContext.MulticlassClassification.Evaluate(model.Transform(test), labelColumnName: label)),
    pipeline => mlContext.MulticlassClassification.CrossValidate(data, pipeline, Folds, label, seed: Seed).Select(fold => Metrics(fold.Metrics)).ToList());

// Plots: the KARE confusion matrix on the held-out rows, and the KARE training curve.
var kare = (TransformerChain<KeyToValueMappingTransformer>)models["KARE"];
MulticlassClassificationMetrics kareMetrics = mlContext.MulticlassClassification.Evaluate(kare.Transform(split.TestSet), labelColumnName: label);
int classes = kareMetrics.ConfusionMatrix.NumberOfClasses;
var counts = new int[classes, classes];
for (int actual = 0; actual < classes; actual++)
    for (int predicted = 0; predicted < classes; predicted++)
        counts[actual, predicted] = (int)kareMetrics.ConfusionMatrix.Counts[actual][predicted];
string plots = ExamplePaths.PlotDirectory(modelPath);
string confusionPath = Path.Combine(plots, "kare-confusion-matrix.png");
string curvePath = Path.Combine(plots, "kare-training-curve.png");
ExamplePlots.ConfusionMatrix(confusionPath, "Wine cultivar: KARE on held-out rows",
    Enumerable.Range(0, classes).Select(k => $"cultivar {k}").ToList(), counts);
KareMulticlassModelParameters parameters = WineModel.KareParameters(kare);
ExamplePlots.TrainingCurve(curvePath, "Wine cultivar: KARE training", parameters.TrainingCurve, parameters.SelectedEpoch);
AnsiConsole.MarkupLine($"KARE chose epoch {parameters.SelectedEpoch} of {parameters.TrainingCurve.Count - 1} and relative ridge {F(parameters.RelativeRidge, "G3")}.");
AnsiConsole.MarkupLine($"Plots: [link]{Markup.Escape(confusionPath)}[/], [link]{Markup.Escape(curvePath)}[/]");

// As Model Builder does: retrain the chosen pipeline on all rows, save it, and check that the saved model loads.
ITransformer final = WithKareProgress("KARE, all rows", epochReports, progress => WineModel.Train(mlContext, data, progress, Seed));
WineModel.Save(mlContext, final, data.Schema, modelPath);
ITransformer loaded = mlContext.Model.Load(modelPath, out _);
WineModel.ModelOutput first = mlContext.Model.CreatePredictionEngine<WineModel.ModelInput, WineModel.ModelOutput>(loaded)
    .Predict(mlContext.Data.CreateEnumerable<WineModel.ModelInput>(data, reuseRowObject: false).First());
AnsiConsole.MarkupLine($"Saved the KARE pipeline trained on all rows to [link]{Markup.Escape(modelPath)}[/] ({F(new FileInfo(modelPath).Length / 1024.0, "F0")} KiB); reloaded, it predicts cultivar {F(first.PredictedCultivar, "F0")} for the first row.");
AnsiConsole.MarkupLine("Next: [bold]dotnet run --project examples/Wine.Multiclass.Consume -c Release[/]");

static double[] Metrics(MulticlassClassificationMetrics m) => [m.MacroAccuracy, m.MicroAccuracy, m.LogLoss];
