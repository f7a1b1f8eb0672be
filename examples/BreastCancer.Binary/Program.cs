using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BreastCancerBinary;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Examples;
using Microsoft.ML.Transforms;
using Spectre.Console;
using static Microsoft.ML.Kare.Examples.ExampleConsole;

// Model Builder-style training app on the Wisconsin breast cancer data (569 rows, label Malignant): one featurization,
// the KARE binary trainer with default options next to FastTree, LightGBM, SDCA and L-BFGS logistic regression,
// evaluated on an 80/20 hold-out split and by 5-fold cross-validation; plots; then the KARE pipeline is retrained on
// all rows and saved as MLModel.zip.
// Usage: dotnet run --project examples/BreastCancer.Binary -c Release [-- <path of MLModel.zip>]
const int Folds = 5, Seed = 0;
string modelPath = ExamplePaths.ModelPath(args);
string dataPath = ExamplePaths.DataFile("breast_cancer.csv");
string label = BreastCancerModel.LabelColumn;

var mlContext = new MLContext(seed: Seed);
IDataView data = BreastCancerModel.LoadData(mlContext, dataPath);
DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: Seed);
bool[] testLabels = split.TestSet.GetColumn<bool>(label).ToArray();
int trainCount = split.TrainSet.GetColumn<bool>(label).Count();
int epochReports = new KareBinaryTrainer.Options().NumberOfEpochs + 1;
AnsiConsole.MarkupLine($"[bold]Breast cancer diagnosis[/] ({Path.GetFileName(dataPath)}): {trainCount} training rows, {testLabels.Length} held-out rows ({testLabels.Count(m => m)} malignant), {Folds}-fold cross-validation on all {trainCount + testLabels.Length}.");

EstimatorChain<NormalizingTransformer> featurizer = BreastCancerModel.BuildFeaturizer(mlContext);
Candidate[] candidates =
{
    new("KARE", progress => BreastCancerModel.BuildPipeline(mlContext, progress, Seed), IsKare: true),
    new("FastTree", _ => featurizer.Append(mlContext.BinaryClassification.Trainers.FastTree(labelColumnName: label))),
    new("LightGBM", _ => featurizer.Append(mlContext.BinaryClassification.Trainers.LightGbm(labelColumnName: label))),
    new("SDCA logistic", _ => featurizer.Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: label))),
    new("L-BFGS logistic", _ => featurizer.Append(mlContext.BinaryClassification.Trainers.LbfgsLogisticRegression(labelColumnName: label))),
};
Dictionary<string, ITransformer> models = ExampleComparison.Run(candidates, split, Folds, epochReports,
    [new Metric("AUC", "F4"), new Metric("accuracy"), new Metric("F1"), new Metric("log-loss")],
    (model, test) => Metrics(mlContext.BinaryClassification.Evaluate(model.Transform(test), labelColumnName: label)),
    pipeline => mlContext.BinaryClassification.CrossValidate(data, pipeline, Folds, label, seed: Seed).Select(fold => Metrics(fold.Metrics)).ToList());

// Plots: ROC curves of every trainer on the held-out rows, and the KARE training curve.
string plots = ExamplePaths.PlotDirectory(modelPath);
string rocPath = Path.Combine(plots, "roc.png");
string curvePath = Path.Combine(plots, "kare-training-curve.png");
ExamplePlots.RocCurves(rocPath, "Breast cancer: ROC on held-out rows", models
    .Select(m => (m.Key, (IReadOnlyList<bool>)testLabels, (IReadOnlyList<double>)m.Value.Transform(split.TestSet).GetColumn<float>("Probability").Select(p => (double)p).ToList()))
    .ToList());
var kare = (TransformerChain<BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>>)models["KARE"];
KareBinaryModelParameters parameters = kare.LastTransformer.Model.SubModel;
ExamplePlots.TrainingCurve(curvePath, "Breast cancer: KARE training", parameters.TrainingCurve, parameters.SelectedEpoch);
AnsiConsole.MarkupLine($"KARE chose epoch {parameters.SelectedEpoch} of {parameters.TrainingCurve.Count - 1} and relative ridge {F(parameters.RelativeRidge, "G3")}.");
AnsiConsole.MarkupLine($"Plots: [link]{Markup.Escape(rocPath)}[/], [link]{Markup.Escape(curvePath)}[/]");

// As Model Builder does: retrain the chosen pipeline on all rows, save it, and check that the saved model loads.
ITransformer final = WithKareProgress("KARE, all rows", epochReports, progress => BreastCancerModel.Train(mlContext, data, progress, Seed));
BreastCancerModel.Save(mlContext, final, data.Schema, modelPath);
ITransformer loaded = mlContext.Model.Load(modelPath, out _);
BreastCancerModel.ModelOutput first = mlContext.Model.CreatePredictionEngine<BreastCancerModel.ModelInput, BreastCancerModel.ModelOutput>(loaded)
    .Predict(mlContext.Data.CreateEnumerable<BreastCancerModel.ModelInput>(data, reuseRowObject: false).First());
AnsiConsole.MarkupLine($"Saved the KARE pipeline trained on all rows to [link]{Markup.Escape(modelPath)}[/] ({F(new FileInfo(modelPath).Length / 1024.0, "F0")} KiB); reloaded, it gives the first row probability {F(first.Probability)} of malignancy.");
AnsiConsole.MarkupLine("Next: [bold]dotnet run --project examples/BreastCancer.Binary.Consume -c Release[/]");

static double[] Metrics(CalibratedBinaryClassificationMetrics m) => [m.AreaUnderRocCurve, m.Accuracy, m.F1Score, m.LogLoss];
