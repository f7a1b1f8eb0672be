using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using DiabetesRegression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Transforms;
using Spectre.Console;
using static Microsoft.ML.Kare.Examples.ExampleConsole;

// Model Builder-style training app on the diabetes data (442 rows, label Progression): one featurization, the KARE
// trainer with default options next to FastTree, LightGBM and SDCA, evaluated on an 80/20 hold-out split and by
// 5-fold cross-validation; plots; then the KARE pipeline is retrained on all rows and saved as MLModel.zip, and as
// MLModel.onnx for ONNX Runtime and other ONNX hosts.
// Usage: dotnet run --project examples/Diabetes.Regression -c Release [-- <path of MLModel.zip>]
const int Folds = 5, Seed = 0;
string modelPath = ExamplePaths.ModelPath(args);
string dataPath = ExamplePaths.DataFile("diabetes.csv");
string label = DiabetesModel.LabelColumn;

var mlContext = new MLContext(seed: Seed);
IDataView data = DiabetesModel.LoadData(mlContext, dataPath);
DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: Seed);
int trainCount = split.TrainSet.GetColumn<float>(label).Count(), testCount = split.TestSet.GetColumn<float>(label).Count();
int epochReports = new KareRegressionTrainer.Options().NumberOfEpochs + 1;
AnsiConsole.MarkupLine($"[bold]Diabetes progression[/] ({Path.GetFileName(dataPath)}): {trainCount} training rows, {testCount} held-out rows, {Folds}-fold cross-validation on all {trainCount + testCount}.");

EstimatorChain<NormalizingTransformer> featurizer = DiabetesModel.BuildFeaturizer(mlContext);
Candidate[] candidates =
{
    new("KARE", progress => DiabetesModel.BuildPipeline(mlContext, progress, Seed), IsKare: true),
    new("FastTree", _ => featurizer.Append(mlContext.Regression.Trainers.FastTree(labelColumnName: label))),
    new("LightGBM", _ => featurizer.Append(mlContext.Regression.Trainers.LightGbm(labelColumnName: label))),
    new("SDCA", _ => featurizer.Append(mlContext.Regression.Trainers.Sdca(labelColumnName: label))),
};
Dictionary<string, ITransformer> models = ExampleComparison.Run(candidates, split, Folds, epochReports,
    [new Metric("R²"), new Metric("RMSE", "F1"), new Metric("MAE", "F1")],
    (model, test) => Metrics(mlContext.Regression.Evaluate(model.Transform(test), labelColumnName: label)),
    pipeline => mlContext.Regression.CrossValidate(data, pipeline, Folds, label, seed: Seed).Select(fold => Metrics(fold.Metrics)).ToList());

// Plots of the KARE model trained on the training split.
var kare = (TransformerChain<RegressionPredictionTransformer<KareRegressionModelParameters>>)models["KARE"];
KareRegressionModelParameters parameters = kare.LastTransformer.Model;
float[] actual = split.TestSet.GetColumn<float>(label).ToArray();
IDataView scoredTest = kare.Transform(split.TestSet);
float[] predicted = scoredTest.GetColumn<float>("Score").ToArray();
double[] lower = scoredTest.GetColumn<float>("LowerBound").Select(v => (double)v).ToArray();
double[] upper = scoredTest.GetColumn<float>("UpperBound").Select(v => (double)v).ToArray();
string plots = ExamplePaths.PlotDirectory(modelPath);
string scatterPath = Path.Combine(plots, "kare-predicted-vs-actual.png");
string curvePath = Path.Combine(plots, "kare-training-curve.png");
ExamplePlots.PredictedVersusActual(scatterPath, "Diabetes progression: KARE on held-out rows",
    actual.Select(v => (double)v).ToList(), predicted.Select(v => (double)v).ToList(), (lower, upper, parameters.PredictionInterval!.Coverage));
ExamplePlots.TrainingCurve(curvePath, "Diabetes progression: KARE training", parameters.TrainingCurve, parameters.SelectedEpoch);
AnsiConsole.MarkupLine($"KARE chose epoch {parameters.SelectedEpoch} of {parameters.TrainingCurve.Count - 1} and relative ridge {parameters.RelativeRidge:G3}.");
AnsiConsole.MarkupLine($"Plots: [link]{Markup.Escape(scatterPath)}[/], [link]{Markup.Escape(curvePath)}[/]");

// As Model Builder does: retrain the chosen pipeline on all rows, save it, and check that the saved model loads.
ITransformer final = WithKareProgress("KARE, all rows", epochReports, progress => DiabetesModel.Train(mlContext, data, progress, Seed));
DiabetesModel.Save(mlContext, final, data.Schema, modelPath);
ITransformer loaded = mlContext.Model.Load(modelPath, out _);
DiabetesModel.ModelOutput first = mlContext.Model.CreatePredictionEngine<DiabetesModel.ModelInput, DiabetesModel.ModelOutput>(loaded)
    .Predict(mlContext.Data.CreateEnumerable<DiabetesModel.ModelInput>(data, reuseRowObject: false).First());
AnsiConsole.MarkupLine($"Saved the KARE pipeline trained on all rows to [link]{Markup.Escape(modelPath)}[/] ({new FileInfo(modelPath).Length / 1024.0:F0} KiB); " +
                       $"reloaded, it predicts {first.Score:F1} for the first row (90% interval {first.LowerBound:F1} to {first.UpperBound:F1}).");
string onnxPath = Path.ChangeExtension(modelPath, ".onnx");
DiabetesModel.SaveOnnx(mlContext, final, onnxPath);
AnsiConsole.MarkupLine($"Saved it as ONNX to [link]{Markup.Escape(onnxPath)}[/] ({new FileInfo(onnxPath).Length / 1024.0:F0} KiB): inputs the ten " +
                       "feature columns (age … s6, [[N, 1]] float each), outputs Score.output, LowerBound.output and UpperBound.output.");
AnsiConsole.MarkupLine("Next: [bold]dotnet run --project examples/Diabetes.Regression.Consume -c Release[/]");

static double[] Metrics(RegressionMetrics m) => [m.RSquared, m.RootMeanSquaredError, m.MeanAbsoluteError];
