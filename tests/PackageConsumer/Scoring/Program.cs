using System;
using System.IO;
using System.Linq;
using Kare.PackageConsumer;
using Microsoft.ML;
using Microsoft.ML.Kare;

// Scoring only: loads each model ../Training saved in MODEL_FOLDER, scores MODEL_FOLDER/rows.csv with a
// PredictionEngine and with Transform, and compares both with the scores the training process wrote. Also checks
// that neither a TorchSharp assembly nor a native torch library was loaded. Usage: ScoringConsumer MODEL_FOLDER
if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("Usage: ScoringConsumer MODEL_FOLDER");
    return 2;
}
string folder = args[0];
Console.WriteLine($"{typeof(KareRegressionModelParameters).Assembly.GetName().Name} {typeof(KareRegressionModelParameters).Assembly.GetName().Version}; Microsoft.ML {ConsumerModels.MicrosoftMLVersion()}");

FeatureRow[] rows = ConsumerModels.ReadRows(ConsumerModels.RowsPath(folder));
bool ok = true;
foreach (string task in ConsumerTasks.All)
{
    var mlContext = new MLContext(seed: 1);
    ITransformer model = mlContext.Model.Load(ConsumerModels.ModelPath(folder, task), out _);
    float[][] expected = ConsumerModels.ReadValues(ConsumerModels.ExpectedPath(folder, task));
    double oneByOne = ConsumerModels.MaxDifference(expected, ConsumerModels.PredictOneByOne(mlContext, model, task, rows));
    double batch = ConsumerModels.MaxDifference(expected, ConsumerModels.PredictBatch(mlContext, model, task, rows));
    bool same = oneByOne <= 1e-6 && batch <= 1e-6;
    ok &= same;
    Console.WriteLine($"{task}: {rows.Length} rows; PredictionEngine max |Δ| {oneByOne:G3}, Transform max |Δ| {batch:G3} against the training process{(same ? "" : " MISMATCH")}");
}

string[] assemblies = ConsumerModels.LoadedTorchAssemblies();
string[] libraries = ConsumerModels.MappedTorchLibraries();
Console.WriteLine($"torch assemblies loaded: {string.Join(", ", assemblies.DefaultIfEmpty("none"))}");
Console.WriteLine($"torch native libraries mapped: {string.Join(", ", libraries.DefaultIfEmpty("none"))}");
ok &= assemblies.Length == 0 && libraries.Length == 0;
Console.WriteLine(ok ? "ScoringConsumer: the three models score as in the training process, without torch, OK" : "ScoringConsumer: FAILED");
return ok ? 0 : 1;
